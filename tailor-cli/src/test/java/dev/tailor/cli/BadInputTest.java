package dev.tailor.cli;

import dev.tailor.io.SafetensorsFile;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input is refused with its cause, exit status 2 and nothing written; a run that diverges stops with status 1
 * and keeps its last checkpoint; any failure, out of memory included, is one line.
 */
class BadInputTest extends TinyModelCliTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);


    int run(String... args) {
        err.getBuffer().setLength(0);
        CommandLine cl = cli();
        return cl.execute(args);
    }

    /** Runs {@code tailor train} on the tiny Llama and the Moby-Dick data for one short step, plus {@code args}. */
    int train(Path output, String... args) {
        List<String> all = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(),
                "--output", output.toString(), "--batch-size", "2", "--seq-len", "64"));
        all.addAll(List.of(args));
        if (!all.contains("--steps")) {
            all.addAll(List.of("--steps", "1"));
        }
        return run(all.toArray(String[]::new));
    }

    /** Asserts a refusal: status 2, one error line containing {@code message}, and no {@code output} left. */
    void assertRefused(int status, String message, Path output) {
        assertEquals(2, status, err.toString());
        List<String> errors = err.toString().lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), err.toString());
        assertTrue(errors.getFirst().contains(message), err.toString());
        assertFalse(Files.exists(output), output + " is left behind");
    }

    @Test
    void anOutputThatIsOrIsInsideTheModelOrIsTheDataIsRefused() throws Exception {
        Path copy = Files.createDirectories(dir.resolve("model"));
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        byte[] weights = Files.readAllBytes(copy.resolve("model.safetensors"));
        model = copy;
        assertEquals(2, train(copy));
        assertTrue(err.toString().contains("--output " + copy + " is the base model's directory"), err.toString());
        assertEquals(2, train(copy, "--method", "lora"));
        assertRefused(train(copy.resolve("runs/lora"), "--method", "lora"), "is inside the base model's "
                + "directory", copy.resolve("runs"));
        assertRefused(train(dir.resolve("link/../model")), "is the base model's directory", dir.resolve("link"));
        assertArrayEquals(weights, Files.readAllBytes(copy.resolve("model.safetensors")));
        try (Stream<Path> files = Files.list(copy)) {
            assertEquals(6, files.count(), "nothing added to the model's directory");
        }

        byte[] text = Files.readAllBytes(data);
        assertEquals(2, train(data));
        assertTrue(err.toString().contains("is the data file"), err.toString());
        assertEquals(2, train(dir));
        assertTrue(err.toString().contains("holds the data file " + data), err.toString());
        assertArrayEquals(text, Files.readAllBytes(data));
    }

    @Test
    void anOutputThatIsAFileOrCannotBeCreatedSaysWhy() throws Exception {
        Path file = Files.writeString(dir.resolve("notes.txt"), "keep me");
        assertEquals(2, train(file));
        assertTrue(err.toString().contains("--output " + file + " is a file, not a directory"), err.toString());
        assertEquals(2, train(file.resolve("run")));
        assertTrue(err.toString().contains("cannot be created: " + file + " is a file"), err.toString());
        assertEquals("keep me", Files.readString(file));
        assertRefused(train(Path.of("/proc/tailor-output")), "--output /proc/tailor-output cannot be created in "
                + "/proc", Path.of("/proc/tailor-output"));
    }

    @Test
    void nonFiniteNumbersAreRefusedNamingTheFlag() {
        Path out = dir.resolve("out").resolve("run");
        assertRefused(train(out, "--lr", "Infinity"), "--lr must be a finite number > 0, got Infinity", dir.resolve("out"));
        assertRefused(train(out, "--lr", "NaN"), "--lr must be a finite number", dir.resolve("out"));
        assertRefused(train(out, "--weight-decay", "NaN"), "--weight-decay must be a finite number", dir.resolve("out"));
        assertRefused(train(out, "--max-grad-norm", "Infinity"), "--max-grad-norm must be a finite", dir.resolve("out"));
        assertRefused(run("train", "--model", model.toString(), "--data", data.toString(), "--output", out.toString(),
                "--epochs", "Infinity"), "--epochs must be a finite number > 0", dir.resolve("out"));
        assertRefused(train(out, "--eval-split", "NaN"), "--eval-split must be a number in [0, 1)", dir.resolve("out"));
        assertRefused(train(out, "--method", "lora", "--lora-alpha", "NaN"),
                "--lora-alpha must be a finite number, got \"NaN\"", dir.resolve("out"));
        assertRefused(train(out, "--method", "lora", "--lora-dropout", "1e999"), "--lora-dropout must be a finite",
                dir.resolve("out"));
    }

    @Test
    void zeroStepsIsRefusedAndNoStepsMeansEpochs() throws Exception {
        assertRefused(train(dir.resolve("zero"), "--steps", "0"), "--steps must be >= 1, got 0", dir.resolve("zero"));
        assertEquals(0, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                dir.resolve("epoch").toString(), "--batch-size", "8", "--seq-len", "64", "--epochs", "0.5"),
                err.toString());
        java.util.regex.Matcher batches = java.util.regex.Pattern.compile("\\((\\d+) batches/epoch")
                .matcher(err.toString());
        assertTrue(batches.find(), err.toString());
        assertEquals((Integer.parseInt(batches.group(1)) + 1) / 2,
                TrainCommandTest.losses(dir.resolve("epoch").resolve("metrics.jsonl")).size(), err.toString());
    }

    @Test
    void aRunWhoseLossBecomesNonFiniteStopsAndKeepsItsLastCheckpoint() throws Exception {
        Path out = dir.resolve("diverged");
        assertEquals(1, train(out, "--lr", "1e30", "--steps", "6", "--save-every", "1"));
        String message = err.toString();
        assertTrue(message.contains("error: training stopped at step 2: the loss is NaN"), message);
        assertTrue(message.contains(out.resolve("training_state").resolve("checkpoint-1").toString()), message);
        assertFalse(message.contains("saved to"), message);
        assertFalse(Files.exists(out.resolve("model.safetensors")), "no final model");
        assertTrue(Files.isDirectory(out.resolve("training_state").resolve("checkpoint-1")));
        assertFalse(Files.exists(out.resolve("training_state").resolve("checkpoint-2")));
        try (SafetensorsFile saved = SafetensorsFile.open(out.resolve("training_state").resolve("checkpoint-1")
                .resolve("trainable.safetensors"))) {
            for (String name : saved.names()) {
                MemorySegment values = saved.data(name);
                for (long i = 0; i < values.byteSize() / 4; i++) {
                    assertTrue(Float.isFinite(values.getAtIndex(F32, i)), name);
                }
            }
        }

        Path lora = dir.resolve("lora");
        assertEquals(1, train(lora, "--method", "lora", "--lora-alpha", "1e30", "--lr", "1e30", "--steps", "6"));
        assertTrue(err.toString().contains("training stopped at step"), err.toString());
        assertFalse(Files.exists(lora.resolve("adapter_model.safetensors")), "no adapter");
    }

    @Test
    void unclearMessagesNameTheCause() throws Exception {
        Path latin1 = dir.resolve("latin1.jsonl");
        Files.write(latin1, "{\"text\": \"ok\"}\n{\"text\": \"fine\"}\n{\"text\": \"caf\u00e9\"}\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertRefused(run("train", "--model", model.toString(), "--data", latin1.toString(), "--output",
                dir.resolve("a").toString(), "--steps", "1"), latin1 + ":3: not UTF-8", dir.resolve("a"));
        assertEquals(2, run("eval", "--model", model.toString(), "--data", latin1.toString()));
        assertTrue(err.toString().contains(latin1 + ":3: not UTF-8"), err.toString());

        assertRefused(run("train", "--model", model.toString(), "--data", dir.toString(), "--output",
                dir.resolve("b").toString(), "--steps", "1"), dir + " is a directory, not a data file", dir.resolve("b"));
        assertEquals(2, run("eval", "--model", model.toString(), "--data", dir.toString()));
        assertTrue(err.toString().contains(dir + " is a directory"), err.toString());

        assertRefused(train(dir.resolve("c"), "--method", "lora", "--r", "1000000000"), "--r 1000000000 gives a tensor "
                + "of 176000000000 values, more than a tensor can hold",
                dir.resolve("c"));
    }

    @Test
    void tenThousandLabelsAreRefusedBeforeScoring() throws Exception {
        Path labels = dir.resolve("labels.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            lines.add("{\"text\": \"message " + i + "\", \"label\": \"L" + i + "\"}");
        }
        Files.write(labels, lines);
        long t0 = System.nanoTime();
        assertRefused(run("train", "--model", model.toString(), "--data", labels.toString(), "--output",
                dir.resolve("cls").toString(), "--steps", "1"), "10,000 distinct labels; accuracy ranks every label "
                + "for every example, so at most 1,000 labels are scored; training without held-out data", dir.resolve("cls"));
        assertEquals(2, run("eval", "--model", model.toString(), "--data", labels.toString()));
        assertTrue(err.toString().contains("at most 1,000 labels"), err.toString());
        assertTrue(System.nanoTime() - t0 < 30e9, "refused at once, not after scoring");
        assertEquals(0, run("train", "--model", model.toString(), "--data", labels.toString(), "--output",
                dir.resolve("no-eval").toString(), "--steps", "1", "--eval-split", "0", "--seq-len", "32"),
                err.toString());
    }

    @Test
    void runningOutOfMemoryIsOneLineAndStatusOne() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-Xmx40m", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), TailorCommand.class.getName(), "train", "--model",
                model.toString(), "--data", data.toString(), "--output", dir.resolve("oom").toString(), "--steps", "2",
                "--batch-size", "4", "--seq-len", "128"));
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile());
        builder.environment().remove("TAILOR_DEBUG");
        Process child = builder.start();
        assertEquals(1, child.waitFor(), Files.readString(dir.resolve("child.log")));
        List<String> log = Files.readAllLines(dir.resolve("child.log"));
        assertTrue(log.getLast().startsWith("error: out of memory ("), log.toString());
        assertTrue(log.stream().noneMatch(l -> l.contains("\tat ") || l.contains("Exception in thread")), log.toString());
    }
}
