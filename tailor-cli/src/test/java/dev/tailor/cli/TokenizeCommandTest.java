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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tailor tokenize} on the TinyLlama tokenizer, whose ids the golden file gives. */
class TokenizeCommandTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cmd = new CommandLine(new TokenizeCommand()).setExecutionExceptionHandler(new ErrorHandler());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    private static String model() {
        return Shared.require("models/tiny-llama").toString();
    }

    @Test
    void printsIdsWithAndWithoutSpecialTokens() {
        assertEquals(0, run("--model", model(), "Hello world"));
        assertEquals(0, run("--model", model(), "--no-special", "Hello world"));
        assertEquals(List.of("1 15043 3186", "15043 3186"), out.toString().lines().toList());
    }

    @Test
    void tokenizesJsonLinesToStandardOutput() throws IOException {
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, "{\"text\": \"Hello world\", \"label\": 1}\n\n{\"text\": \"a\"}\n");
        assertEquals(0, run("--model", model(), "--no-special", "--jsonl", input.toString()), err.toString());
        assertEquals(List.of("{\"text\":\"Hello world\",\"ids\":[15043,3186]}", "{\"text\":\"a\",\"ids\":[263]}"),
                out.toString().lines().toList());
    }

    @Test
    void writesTheOutputFileAtomically() throws IOException {
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, "{\"text\": \"Hello world\"}\n");
        Path output = dir.resolve("out.jsonl");
        assertEquals(0, run("--model", model(), "--jsonl", input.toString(), "--output", output.toString()));
        assertEquals(List.of("{\"text\":\"Hello world\",\"ids\":[1,15043,3186]}"), Files.readAllLines(output));
        assertEquals("", out.toString());
        try (var files = Files.list(dir)) {
            assertEquals(List.of("in.jsonl", "out.jsonl"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void aBadLineNamesTheFileAndLineAndLeavesNoOutput() throws IOException {
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, "{\"text\": \"fine\"}\n{\"txt\": \"no text field\"}\n");
        Path output = dir.resolve("out.jsonl");
        assertEquals(2, run("--model", model(), "--jsonl", input.toString(), "--output", output.toString()));
        assertTrue(err.toString().contains(input + ":2:"), err.toString());
        assertFalse(Files.exists(output));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
        Files.writeString(input, "{\"text\": \"fine\"}\nnot json\n");
        assertEquals(2, run("--model", model(), "--jsonl", input.toString()));
        assertTrue(err.toString().contains(input + ":2: not valid JSON"), err.toString());
    }

    @Test
    void aMissingModelDirectoryFails() {
        Path missing = dir.resolve("nothing-here");
        assertEquals(2, run("--model", missing.toString(), "hi"));
        assertTrue(err.toString().contains(missing + "\" is neither a directory"), err.toString());
    }

    @Test
    void aDirectoryWithoutTokenizerFails() {
        assertEquals(2, run("--model", dir.toString(), "hi"));
        assertTrue(err.toString().contains(dir.resolve("tokenizer.json") + ": not found"), err.toString());
    }

    @Test
    void textAndJsonlAreExclusive() throws IOException {
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, "");
        assertEquals(2, run("--model", dir.toString()));
        assertEquals(2, run("--model", dir.toString(), "--jsonl", input.toString(), "hi"));
        assertTrue(err.toString().contains("give either TEXT or --jsonl FILE"), err.toString());
    }
}
