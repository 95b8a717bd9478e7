package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every line of the golden tokenizer files, id for id: the reference outputs of {@code sentencepiece} (Llama 2)
 * and of Hugging Face {@code tokenizers} (Llama 3, Qwen3).
 */
class TokenizerConformanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicTest> llama2SentencePiece() throws IOException {
        Path golden = Shared.require("golden/tokenizer/llama2-sentencepiece.jsonl");
        Tokenizer tokenizer = Tokenizers.load(Shared.require("models/tiny-llama"));
        return lines(golden).stream().map(line -> DynamicTest.dynamicTest(line.name(), () -> {
            JsonNode d = line.json();
            String text = d.get("text").textValue();
            String context = line.name() + " text=" + quoted(text);
            assertArrayEquals(ints(d.get("ids")), tokenizer.encode(text, false), "ids of " + context);
            assertArrayEquals(ints(d.get("with_bos")), tokenizer.encode(text, true), "with_bos of " + context);
            assertDecodes(tokenizer, ints(d.get("ids")), false, d.get("decoded").textValue(), context);
            assertDecodes(tokenizer, ints(d.get("with_bos")), true, d.get("decoded").textValue(), context);
        }));
    }

    @TestFactory
    Stream<DynamicTest> llama3() throws IOException {
        return huggingFace("golden/tokenizer/llama3-hf.jsonl", "tokenizers/llama3");
    }

    @TestFactory
    Stream<DynamicTest> qwen3() throws IOException {
        return huggingFace("golden/tokenizer/qwen3-hf.jsonl", "tokenizers/qwen3");
    }

    private static Stream<DynamicTest> huggingFace(String goldenPath, String tokenizerDir) throws IOException {
        Path golden = Shared.require(goldenPath);
        Tokenizer tokenizer = Tokenizers.load(Shared.require(tokenizerDir));
        return lines(golden).stream().map(line -> DynamicTest.dynamicTest(line.name(), () -> {
            JsonNode d = line.json();
            String text = d.get("text").textValue();
            String context = line.name() + " text=" + quoted(text);
            assertArrayEquals(ints(d.get("ids")), tokenizer.encode(text, false), "ids of " + context);
            assertArrayEquals(ints(d.get("with_special")), tokenizer.encode(text, true),
                    "with_special of " + context);
            assertDecodes(tokenizer, ints(d.get("ids")), false, d.get("decoded").textValue(), context);
        }));
    }

    /** Whole and streaming decoding both give the expected text. */
    private static void assertDecodes(Tokenizer tokenizer, int[] ids, boolean skipSpecial, String expected,
                                      String context) {
        assertEquals(expected, tokenizer.decode(ids, skipSpecial), "decoded of " + context);
        StreamingDecoder stream = tokenizer.streamingDecoder(skipSpecial);
        StringBuilder streamed = new StringBuilder();
        boolean textHasReplacement = expected.indexOf('\uFFFD') >= 0;
        for (int id : ids) {
            String piece = stream.next(id);
            if (!textHasReplacement) {
                assertEquals(-1, piece.indexOf('\uFFFD'), "streamed half a character for " + context);
            }
            streamed.append(piece);
        }
        streamed.append(stream.flush());
        assertEquals(expected, streamed.toString(), "streamed decode of " + context);
    }

    private record Line(String name, JsonNode json) {
    }

    private static List<Line> lines(Path file) throws IOException {
        List<String> raw = Files.readAllLines(file);
        List<Line> lines = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            lines.add(new Line(file.getFileName() + ":" + (i + 1), JSON.readTree(raw.get(i))));
        }
        return lines;
    }

    private static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).intValue();
        }
        return values;
    }

    private static String quoted(String text) {
        String shown = text.length() > 120 ? text.substring(0, 120) + "…" : text;
        return "\"" + shown.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + "\"";
    }
}
