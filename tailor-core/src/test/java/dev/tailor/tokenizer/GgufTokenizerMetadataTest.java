package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.io.gguf.GgufFile;
import dev.tailor.io.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tokenizer metadata written for GGUF files and read back ({@link GgufVocabulary}) tokenizes as the model's own
 * {@code tokenizer.json} does, against the reference ids of SentencePiece and Hugging Face's {@code tokenizers}.
 */
class GgufTokenizerMetadataTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** Without {@code tokenizer.model}, the pieces are scored from {@code tokenizer.json}'s merges. */
    @Test
    void sentencePieceFromTokenizerJsonAlone() throws IOException {
        Path model = Shared.require("models/tiny-llama");
        Path dir = Files.createDirectory(tmp.resolve("no-sp-model"));
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json", "config.json"}) {
            Files.copy(model.resolve(f), dir.resolve(f));
        }
        Path gguf = written(dir, 32000);
        try (GgufFile file = GgufFile.open(gguf)) {
            assertEquals("llama", file.metadata().string("tokenizer.ggml.model"));
            assertEquals(1, file.metadata().integer("tokenizer.ggml.bos_token_id"));
            assertEquals(0, file.metadata().integer("tokenizer.ggml.unknown_token_id"));
            assertTrue(file.metadata().bool("tokenizer.ggml.add_bos_token", false));
            assertFalse(file.metadata().bool("tokenizer.ggml.add_eos_token", true));
            assertEquals(6, file.metadata().integers("tokenizer.ggml.token_type")[3], "<0x00> is a byte");
        }
        Tokenizer fromGguf = Tokenizers.load(gguf);
        int lines = 0;
        for (String line : Files.readAllLines(Shared.require("golden/tokenizer/llama2-sentencepiece.jsonl"))) {
            JsonNode row = JSON.readTree(line);
            String text = row.get("text").asText();
            assertArrayEquals(ids(row.get("ids")), fromGguf.encode(text, false), text);
            assertArrayEquals(ids(row.get("with_bos")), fromGguf.encode(text, true), text);
            lines++;
        }
        assertEquals(222, lines);
    }

    @Test
    void llama3ByteLevel() throws IOException {
        checkByteLevel("llama3", "llama-bpe", "golden/tokenizer/llama3-hf.jsonl");
    }

    @Test
    void qwen3ByteLevel() throws IOException {
        checkByteLevel("qwen3", "qwen2", "golden/tokenizer/qwen3-hf.jsonl");
    }

    /** A vocabulary shorter than the embedding is padded with unused {@code [PADn]} tokens, as the converter pads. */
    @Test
    void shortVocabularyIsPadded() throws IOException {
        Path dir = Shared.require("tokenizers/qwen3");
        int size;
        try (GgufFile file = GgufFile.open(written(dir, 0))) {
            size = file.metadata().strings("tokenizer.ggml.tokens").length;
        }
        try (GgufFile file = GgufFile.open(written(dir, size + 3))) {
            String[] tokens = file.metadata().strings("tokenizer.ggml.tokens");
            assertEquals(size + 3, tokens.length);
            assertEquals("[PAD3]", tokens[size + 2]);
            assertEquals(5, file.metadata().integers("tokenizer.ggml.token_type")[size + 2]);
        }
    }

    @Test
    void missingTokenizerIsNamed() {
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> GgufTokenizerMetadata.put(tmp, 10, new GgufWriter()));
        assertTrue(e.getMessage().contains(tmp.resolve("tokenizer.json") + ": not found"), e.getMessage());
    }

    @Test
    void truncatedSentencePieceModelIsNamed() throws IOException {
        Path model = Shared.require("models/tiny-llama");
        Path dir = Files.createDirectory(tmp.resolve("broken"));
        Files.copy(model.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        byte[] sp = Files.readAllBytes(model.resolve("tokenizer.model"));
        Files.write(dir.resolve("tokenizer.model"), Arrays.copyOf(sp, 1001));
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> GgufTokenizerMetadata.put(dir, 32000, new GgufWriter()));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.model") + ": "), e.getMessage());
    }

    private void checkByteLevel(String name, String pre, String golden) throws IOException {
        Path dir = Shared.require("tokenizers/" + name);
        Path gguf = written(dir, 0);
        try (GgufFile file = GgufFile.open(gguf)) {
            assertEquals("gpt2", file.metadata().string("tokenizer.ggml.model"));
            assertEquals(pre, file.metadata().string("tokenizer.ggml.pre"));
            assertEquals(JSON.readTree(dir.resolve("tokenizer_config.json").toFile()).get("chat_template").asText(),
                    file.metadata().string("tokenizer.chat_template"));
        }
        Tokenizer tokenizer = Tokenizers.load(gguf);
        Tokenizer own = Tokenizers.load(dir);
        int lines = 0;
        for (String line : Files.readAllLines(Shared.require(golden))) {
            JsonNode row = JSON.readTree(line);
            String text = row.get("text").asText();
            assertArrayEquals(ids(row.get("ids")), tokenizer.encode(text, false), text);
            assertArrayEquals(own.encode(text, true), tokenizer.encode(text, true), text);
            lines++;
        }
        assertTrue(lines > 100, "lines " + lines);
    }

    private Path written(Path dir, int vocabSize) throws IOException {
        GgufWriter out = new GgufWriter();
        GgufTokenizerMetadata.put(dir, vocabSize, out);
        Path gguf = Files.createTempFile(tmp, "tokenizer", ".gguf");
        out.write(gguf);
        return gguf;
    }

    private static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        Arrays.setAll(ids, i -> array.get(i).asInt());
        return ids;
    }
}
