package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.io.gguf.GgufBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tokenizers built from GGUF metadata give the ids of the model's own {@code tokenizer.json}. */
class GgufTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The SentencePiece vocabulary of a converted Llama 2 model: merges from its scores, byte fallback, BOS. */
    @Test
    void sentencePieceFromMetadataMatchesTheReferenceIds() throws IOException {
        Path gguf = Shared.require("models/tiny-llama-gguf/tiny-llama-q4_0.gguf");
        Tokenizer fromGguf = Tokenizers.load(gguf);
        Tokenizer fromJson = Tokenizers.load(Shared.require("models/tiny-llama"));
        int lines = 0;
        for (String line : Files.readAllLines(Shared.require("golden/tokenizer/llama2-sentencepiece.jsonl"))) {
            JsonNode row = JSON.readTree(line);
            String text = row.get("text").asText();
            assertArrayEquals(ids(row.get("ids")), fromGguf.encode(text, false), text);
            assertArrayEquals(ids(row.get("with_bos")), fromGguf.encode(text, true), text);
            assertArrayEquals(fromJson.encode(text, true), fromGguf.encode(text, true), text);
            assertEquals(row.get("decoded").asText(), fromGguf.decode(ids(row.get("ids")), true), text);
            lines++;
        }
        assertEquals(222, lines);
        assertEquals(1, fromGguf.bosId());
        assertEquals(List.of(2), fromGguf.eosIds());
    }

    /** The merges derived from the scores are exactly those of the model's {@code tokenizer.json}. */
    @Test
    void scoreMergesAreTheConvertersMerges() throws IOException {
        Path dir = Shared.require("models/tiny-llama");
        JsonNode model = JSON.readTree(dir.resolve("tokenizer.json").toFile()).get("model");
        String[] tokens = new String[model.get("vocab").size()];
        model.get("vocab").properties().forEach(e -> tokens[e.getValue().asInt()] = e.getKey());
        float[] scores;
        try (var file = dev.tailor.io.gguf.GgufFile.open(Shared.require("models/tiny-llama-gguf/tiny-llama-f32.gguf"))) {
            scores = file.metadata().floats("tokenizer.ggml.scores");
        }
        List<String> expected = new ArrayList<>();
        model.get("merges").forEach(m -> expected.add(m.asText()));
        assertEquals(expected, GgufVocabulary.scoreMerges(tokens, scores));
    }

    /** Qwen3's byte-level vocabulary written as llama.cpp's converter writes it ({@code gpt2}, pre {@code qwen2}). */
    @Test
    void qwenByteLevelFromMetadataMatchesTheReferenceIds(@TempDir Path tmp) throws IOException {
        Path gguf = byteLevelGguf(Shared.require("tokenizers/qwen3"), "qwen2", tmp.resolve("qwen3.gguf"));
        checkAgainst(Tokenizers.load(gguf), Shared.require("golden/tokenizer/qwen3-hf.jsonl"));
    }

    /** Llama 3's byte-level vocabulary ({@code gpt2}, pre {@code llama-bpe}, whose words skip the merges). */
    @Test
    void llama3ByteLevelFromMetadataMatchesTheReferenceIds(@TempDir Path tmp) throws IOException {
        Path gguf = byteLevelGguf(Shared.require("tokenizers/llama3"), "llama-bpe", tmp.resolve("llama3.gguf"));
        checkAgainst(Tokenizers.load(gguf), Shared.require("golden/tokenizer/llama3-hf.jsonl"));
    }

    @Test
    void unknownTokenizerModelIsRefusedByName(@TempDir Path tmp) throws IOException {
        Path gguf = tmp.resolve("t.gguf");
        Files.write(gguf, new GgufBytes().string("tokenizer.ggml.model", "bert")
                .strings("tokenizer.ggml.tokens", List.of("a", "b")).build());
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(gguf));
        assertTrue(e.getMessage().contains("tokenizer.ggml.model \"bert\" is not supported"), e.getMessage());
        assertTrue(e.getMessage().contains(gguf.toString()), e.getMessage());
    }

    private static void checkAgainst(Tokenizer tokenizer, Path golden) throws IOException {
        int lines = 0;
        for (String line : Files.readAllLines(golden)) {
            JsonNode row = JSON.readTree(line);
            String text = row.get("text").asText();
            assertArrayEquals(ids(row.get("ids")), tokenizer.encode(text, false), text);
            assertArrayEquals(ids(row.get("with_special")), tokenizer.encode(text, true), text);
            assertEquals(row.get("decoded").asText(), tokenizer.decode(ids(row.get("ids")), false), text);
            lines++;
        }
        assertTrue(lines > 100, "lines " + lines);
    }

    /** A GGUF holding only the tokenizer of {@code dir}'s {@code tokenizer.json}, as the converter writes it. */
    private static Path byteLevelGguf(Path dir, String pre, Path out) throws IOException {
        JsonNode root = JSON.readTree(dir.resolve("tokenizer.json").toFile());
        Map<Integer, String> byId = new TreeMap<>();
        Map<Integer, Integer> types = new TreeMap<>();
        root.get("model").get("vocab").properties().forEach(e -> byId.put(e.getValue().asInt(), e.getKey()));
        byId.keySet().forEach(id -> types.put(id, 1));
        for (JsonNode t : root.get("added_tokens")) {
            byId.put(t.get("id").asInt(), t.get("content").asText());
            types.put(t.get("id").asInt(), t.get("special").asBoolean() ? 3 : 4);
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : root.get("model").get("merges")) {
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        Files.write(out, new GgufBytes().string("tokenizer.ggml.model", "gpt2").string("tokenizer.ggml.pre", pre)
                .strings("tokenizer.ggml.tokens", new ArrayList<>(byId.values()))
                .ints("tokenizer.ggml.token_type", types.values().stream().mapToInt(Integer::intValue).toArray())
                .strings("tokenizer.ggml.merges", merges).u32("tokenizer.ggml.eos_token_id",
                        root.get("added_tokens").get(0).get("id").asInt())
                .bool("tokenizer.ggml.add_bos_token", false).build());
        return out;
    }

    private static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        Arrays.setAll(ids, i -> array.get(i).asInt());
        return ids;
    }
}
