package dev.tailor.cli;

import dev.tailor.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tailor export --format gguf}. */
class ExportCommandTest {
    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = TailorCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    /** A model with a LoRA adapter merged on the fly is written as the model {@code tailor merge} saves. */
    @Test
    void exportWithAnAdapterEqualsExportingTheMergedModel() throws IOException {
        Path model = Shared.require("models/tiny-llama");
        Path lora = Shared.require("golden/tiny-llama/lora");
        Path merged = dir.resolve("merged");
        assertEquals(0, run("merge", "--model", model.toString(), "--adapter", lora.toString(), "-o",
                merged.toString()), err.toString());
        Path direct = dir.resolve("direct.gguf");
        Path viaMerge = dir.resolve("via-merge.gguf");
        assertEquals(0, run("export", "--model", model.toString(), "--adapter", lora.toString(), "--type", "Q8_0",
                "-o", direct.toString()), err.toString());
        assertEquals(0, run("export", "--model", merged.toString(), "--type", "Q8_0", "--name", "Tiny Llama",
                "-o", viaMerge.toString()), err.toString());
        assertEquals(-1, Files.mismatch(direct, viaMerge));
        Path base = dir.resolve("base.gguf");
        assertEquals(0, run("export", "--model", model.toString(), "--type", "Q8_0", "-o", base.toString()),
                err.toString());
        assertTrue(Files.mismatch(base, direct) >= 0, "the adapter changes the weights");
    }

    /** llama.cpp's F32 file re-exported as Q4_0 is llama-quantize's Q4_0 file, byte for byte. */
    @Test
    void aGgufModelIsRequantizedAsLlamaQuantizeDoes() {
        Path f32 = Shared.require("models/tiny-llama-gguf/tiny-llama-f32.gguf");
        Path out = dir.resolve("q4.gguf");
        assertEquals(0, run("export", "--model", f32.toString(), "--type", "q4_0", "-o", out.toString()),
                err.toString());
        assertEquals(-1, mismatch(Shared.require("models/tiny-llama-gguf/tiny-llama-q4_0.gguf"), out));
    }

    @Test
    void badInputIsOneLineAndWritesNothing() throws IOException {
        String model = Shared.require("models/tiny-llama").toString();
        String out = dir.resolve("out.gguf").toString();
        Path noTokenizer = Files.createDirectory(dir.resolve("no-tokenizer"));
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(Path.of(model, f), noTokenizer.resolve(f));
        }
        List<List<String>> cases = List.of(
                List.of("--model", model, "--type", "Q5_K", "-o", out),
                List.of("--model", model, "--format", "onnx", "-o", out),
                List.of("--model", model, "-o", dir.toString()),
                List.of("--model", model, "-o", dir.resolve("missing/out.gguf").toString()),
                List.of("--model", dir.resolve("nowhere").toString(), "-o", out),
                List.of("--model", model, "--adapter", dir.toString(), "-o", out),
                List.of("--model", noTokenizer.toString(), "-o", out));
        List<String> expected = List.of("--type Q5_K is not supported", "--format onnx is not supported",
                "is a directory", "does not exist", "nowhere", dir.toString(), "tokenizer.json: not found");
        for (int i = 0; i < cases.size(); i++) {
            err.getBuffer().setLength(0);
            List<String> args = new java.util.ArrayList<>(List.of("export"));
            args.addAll(cases.get(i));
            assertEquals(2, run(args.toArray(String[]::new)), err.toString());
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
            assertTrue(err.toString().contains(expected.get(i)), err.toString());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith("out.gguf")).toList(),
                    "no file, not even a temporary one");
        }
    }

    private static long mismatch(Path a, Path b) {
        try {
            return Files.mismatch(a, b);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
