package dev.tailor.cli;

import dev.tailor.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reported case on the command line: {@code tailor train --method seq_bn --non-linearity relu --steps 10
 * --save-every 3}, the last checkpoint deleted, then {@code --non-linearity swish --resume} is refused, while the
 * unchanged command resumes from the checkpoint before.
 */
class ResumeChangedOptionTest {

    @TempDir
    Path dir;

    @Test
    void resumingSeqBnWithAnotherNonLinearityIsRefused() throws Exception {
        Path out = dir.resolve("o");
        String line = "{\"text\": \"Call me Ishmael. Some years ago, never mind how long precisely, having little "
                + "or no money in my purse.\"}\n";
        Path data = Files.writeString(dir.resolve("data.jsonl"), line.repeat(8));
        String[] common = {"train", "--model", Shared.require("models/tiny-llama").toString(), "--data",
                data.toString(), "--method", "seq_bn", "--steps", "10", "--save-every", "3", "--output",
                out.toString(), "--batch-size", "1", "--seq-len", "32", "--eval-split", "0"};
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, common, "--non-linearity", "relu"), err.toString());
        Path last = out.resolve("training_state").resolve("checkpoint-10");
        try (Stream<Path> files = Files.walk(last)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertEquals(1, run(err, common, "--non-linearity", "swish", "--resume"), err.toString());
        assertTrue(err.toString().contains("checkpoint-9 was written by a run with another configuration"),
                err.toString());
        assertEquals(0, run(err, common, "--non-linearity", "relu", "--resume"), err.toString());
        assertTrue(err.toString().contains("resumed from checkpoint-9 at step 9"), err.toString());
    }

    private static int run(StringWriter err, String[] common, String... more) {
        CommandLine cl = TailorCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));
        String[] args = Stream.concat(Stream.of(common), Stream.of(more)).toArray(String[]::new);
        return cl.execute(args);
    }
}
