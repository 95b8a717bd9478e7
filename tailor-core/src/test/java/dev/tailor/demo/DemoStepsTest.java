package dev.tailor.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A finished step is reused, a changed one redone, a stopped one resumed or restarted, a half-renamed one renamed. */
class DemoStepsTest {
    @TempDir
    Path root;

    private final List<Boolean> runs = new ArrayList<>();

    private DemoSteps.Done step(String name, String key, String content) throws IOException {
        return new DemoSteps(root).run(name, key, (dir, resume) -> {
            runs.add(resume);
            Files.writeString(dir.resolve("made.txt"), content);
        });
    }

    @Test
    void aFinishedStepIsReusedWhileItsKeyHolds() throws IOException {
        DemoSteps.Done first = step("base", "k1", "one");
        assertFalse(first.reused());
        assertEquals(root.resolve("base"), first.dir());
        assertEquals("one", Files.readString(root.resolve("base/made.txt")));
        assertTrue(Files.isRegularFile(root.resolve("base").resolve(DemoSteps.MARKER)));
        assertFalse(Files.exists(root.resolve("base.partial")));

        DemoSteps.Done again = step("base", "k1", "two");
        assertTrue(again.reused());
        assertEquals(first.seconds(), again.seconds(), 0.051, "the time it took when it ran, to a tenth");
        assertEquals("one", Files.readString(root.resolve("base/made.txt")));
        assertEquals(List.of(false), runs, "the work ran once");

        DemoSteps.Done changed = step("base", "k2", "three");
        assertFalse(changed.reused());
        assertEquals("three", Files.readString(root.resolve("base/made.txt")));
        assertEquals(List.of(false, false), runs);
    }

    @Test
    void aStoppedStepResumesWithTheSameKeyAndRestartsWithAnother() throws IOException {
        Path partial = Files.createDirectories(root.resolve("domain.partial"));
        Files.writeString(partial.resolve("demo-step.key"), "k1");
        Files.writeString(partial.resolve("checkpoint.txt"), "half");
        new DemoSteps(root).run("domain", "k1", (dir, resume) -> {
            runs.add(resume);
            assertEquals("half", Files.readString(dir.resolve("checkpoint.txt")), "resumed where it stopped");
        });
        assertEquals(List.of(true), runs);
        assertTrue(Files.exists(root.resolve("domain/checkpoint.txt")));

        Path other = Files.createDirectories(root.resolve("adapter.partial"));
        Files.writeString(other.resolve("demo-step.key"), "old");
        Files.writeString(other.resolve("checkpoint.txt"), "stale");
        new DemoSteps(root).run("adapter", "new", (dir, resume) -> {
            runs.add(resume);
            assertFalse(Files.exists(dir.resolve("checkpoint.txt")), "another key's attempt is thrown away");
        });
        assertEquals(List.of(true, false), runs);
    }

    @Test
    void aStepStoppedBeforeItsRenameIsRenamed() throws IOException {
        step("tokenizer", "k", "made");
        Files.move(root.resolve("tokenizer"), root.resolve("tokenizer.partial"));
        DemoSteps.Done d = step("tokenizer", "k", "again");
        assertTrue(d.reused());
        assertEquals("made", Files.readString(root.resolve("tokenizer/made.txt")));
        assertFalse(Files.exists(root.resolve("tokenizer.partial")));
        assertEquals(List.of(false), runs);
    }
}
