package dev.tailor.cli;

import dev.tailor.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --model FILE.gguf} on the command line. */
class GgufCommandTest {
    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private Run run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = TailorCommand.commandLine();
            cl.setErr(new PrintWriter(err, true));
            return new Run(cl.execute(args), out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(saved);
        }
    }

    private record Run(int code, String out) {
    }

    /** The F32 GGUF holds the safetensors model's weights and vocabulary, so it continues a prompt identically. */
    @Test
    void generateFromAGgufFileContinuesAsTheSafetensorsModel() {
        Path gguf = Shared.require("models/tiny-llama-gguf/tiny-llama-f32.gguf");
        Path hf = Shared.require("models/tiny-llama");
        Run fromGguf = run("generate", "--model", gguf.toString(), "--prompt", "Once upon a time", "--max-tokens", "12");
        assertEquals(0, fromGguf.code(), err.toString());
        Run fromHf = run("generate", "--model", hf.toString(), "--prompt", "Once upon a time", "--max-tokens", "12");
        assertEquals(0, fromHf.code(), err.toString());
        assertFalse(fromGguf.out().isBlank());
        assertEquals(fromHf.out(), fromGguf.out());
    }

    /**
     * {@code --quantize Q4_0} makes the same weights from the F32 GGUF as from the safetensors model (so the same
     * continuation), and changes them (another continuation than F32's, as the quantization error moves the logits).
     */
    @Test
    void quantizeAtLoadGivesOneModelFromEitherFile() {
        Path gguf = Shared.require("models/tiny-llama-gguf/tiny-llama-f32.gguf");
        Path hf = Shared.require("models/tiny-llama");
        String[] tail = {"--prompt", "Once upon a time", "--max-tokens", "12", "--quantize", "Q4_0"};
        Run fromGguf = run(concat(new String[] {"generate", "--model", gguf.toString()}, tail));
        assertEquals(0, fromGguf.code(), err.toString());
        Run fromHf = run(concat(new String[] {"generate", "--model", hf.toString()}, tail));
        assertEquals(0, fromHf.code(), err.toString());
        assertEquals(fromHf.out(), fromGguf.out());
        Run bad = run("generate", "--model", hf.toString(), "--prompt", "hi", "--quantize", "Q5_0");
        assertEquals(2, bad.code());
        assertTrue(err.toString().contains("--quantize must be Q8_0 or Q4_0, got \"Q5_0\""), err.toString());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void costReadsTheConfigOfAGgufFile() {
        Path gguf = Shared.require("models/tiny-llama-256-gguf/tiny-llama-256-q4_k_m.gguf");
        Run r = run("cost", "--model", gguf.toString(), "--method", "lora", "--json");
        assertEquals(0, r.code(), err.toString());
        assertTrue(r.out().contains("\"lora\""), r.out());
    }

    /**
     * Decoding a GGUF file reads no JSON, so the process never makes a Jackson {@code ObjectMapper} (its data binding
     * is ~15 MB resident): checked in a child JVM that logs every class it initializes. The same command with a
     * Hugging Face directory (config.json, tokenizer.json) does make one, so the log is read right.
     */
    @Test
    void generatingFromAGgufFileLoadsNoJsonDataBinding() throws Exception {
        String mapper = "Initializing 'com/fasterxml/jackson/databind/ObjectMapper'";
        Path gguf = Shared.require("models/tiny-llama-gguf/tiny-llama-q8_0.gguf");
        String fromGguf = child("gguf", gguf);
        assertTrue(fromGguf.lines().anyMatch(l -> l.contains("Initializing 'dev/tailor/model/LlamaModel'")), fromGguf);
        assertFalse(fromGguf.contains(mapper), fromGguf);
        assertTrue(child("hf", Shared.require("models/tiny-llama")).contains(mapper));
    }

    /** Runs {@code generate --model model} in a child JVM and returns its class initialization log and output. */
    private String child(String name, Path model) throws Exception {
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xlog:class+init=info",
                "-cp", System.getProperty("java.class.path"), TailorCommand.class.getName(), "generate", "--model",
                model.toString(), "--prompt", "Once upon a time", "--max-tokens", "4", "--temperature", "0");
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertEquals(0, p.waitFor(), Files.readString(log));
        return Files.readString(log);
    }

    @Test
    void aDamagedGgufFileIsOneLineOfBadInput() throws Exception {
        Path bad = Files.writeString(dir.resolve("broken.gguf"), "GGUF but not really");
        Run r = run("generate", "--model", bad.toString(), "--prompt", "hi");
        assertEquals(2, r.code(), err.toString());
        assertTrue(err.toString().contains(bad.toString()), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }
}
