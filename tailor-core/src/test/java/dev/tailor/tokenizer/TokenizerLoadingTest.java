package dev.tailor.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Malformed or unsupported tokenizer files give errors naming the file and the field. */
class TokenizerLoadingTest {
    @TempDir
    Path dir;

    private static final String VALID_MODEL = """
            {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}""";

    private TokenizerException failure(String tokenizerJson) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson);
        return assertThrows(TokenizerException.class, () -> Tokenizers.load(dir));
    }

    private void assertNames(TokenizerException e, String file, String... fragments) {
        assertTrue(e.getMessage().contains(dir.resolve(file).toString()), "names the file: " + e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "mentions '" + fragment + "': " + e.getMessage());
        }
    }

    @Test
    void missingFile() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(dir));
        assertNames(e, "tokenizer.json", "not found");
    }

    @Test
    void badJson() throws IOException {
        assertNames(failure("{\"model\": {\"type\": \"BPE\", "), "tokenizer.json", "not valid JSON");
    }

    @Test
    void notAnObject() throws IOException {
        assertNames(failure("[1, 2]"), "tokenizer.json", "expected a JSON object");
    }

    @Test
    void missingModel() throws IOException {
        assertNames(failure("{\"normalizer\": null}"), "tokenizer.json", "field model", "missing");
    }

    @Test
    void unknownModelType() throws IOException {
        assertNames(failure("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}"), "tokenizer.json",
                "field model.type", "WordPiece");
    }

    @Test
    void missingVocab() throws IOException {
        assertNames(failure("{\"model\": {\"type\": \"BPE\", \"merges\": []}}"), "tokenizer.json", "model.vocab");
    }

    @Test
    void badVocabId() throws IOException {
        assertNames(failure("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"zero\"}, \"merges\": []}}"),
                "tokenizer.json", "model.vocab[\"a\"]");
    }

    @Test
    void mergeReferringToUnknownToken() throws IOException {
        assertNames(failure("""
                {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a c"]}}"""),
                "tokenizer.json", "field model.merges[1]", "unknown token 'c'");
    }

    @Test
    void mergeWhoseResultIsNotInTheVocab() throws IOException {
        assertNames(failure("""
                {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}}"""),
                "tokenizer.json", "field model.merges[0]", "'ab' is not in model.vocab");
    }

    @Test
    void malformedMerge() throws IOException {
        assertNames(failure("""
                {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}"""),
                "tokenizer.json", "field model.merges[0]", "left right");
    }

    @Test
    void unknownUnkToken() throws IOException {
        assertNames(failure("""
                {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}}"""),
                "tokenizer.json", "field model.unk_token", "<unk>");
    }

    @Test
    void unsupportedPreTokenizer() throws IOException {
        assertNames(failure("{\"model\": " + VALID_MODEL + ", \"pre_tokenizer\": {\"type\": \"Sequence\","
                        + " \"pretokenizers\": [{\"type\": \"Whitespace\"}]}}"),
                "tokenizer.json", "field pre_tokenizer.pretokenizers[0].type", "Whitespace");
    }

    @Test
    void invalidSplitRegex() throws IOException {
        assertNames(failure("{\"model\": " + VALID_MODEL + ", \"pre_tokenizer\": {\"type\": \"Split\","
                        + " \"pattern\": {\"Regex\": \"(a\"}, \"behavior\": \"Isolated\"}}"),
                "tokenizer.json", "field pre_tokenizer.pattern.Regex", "invalid regex");
    }

    @Test
    void unsupportedNormalizerAndDecoderAndPostProcessor() throws IOException {
        assertNames(failure("{\"model\": " + VALID_MODEL + ", \"normalizer\": {\"type\": \"BertNormalizer\"}}"),
                "tokenizer.json", "field normalizer.type", "BertNormalizer");
        assertNames(failure("{\"model\": " + VALID_MODEL + ", \"decoder\": {\"type\": \"WordPiece\"}}"),
                "tokenizer.json", "field decoder.type", "WordPiece");
        assertNames(failure("{\"model\": " + VALID_MODEL + ", \"post_processor\": {\"type\": \"BertProcessing\"}}"),
                "tokenizer.json", "field post_processor.type", "BertProcessing");
    }

    @Test
    void addedTokenWithoutId() throws IOException {
        assertNames(failure("{\"model\": " + VALID_MODEL + ", \"added_tokens\": [{\"content\": \"<x>\"}]}"),
                "tokenizer.json", "field added_tokens[0].id");
    }

    @Test
    void configNamingAnUnknownToken() throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": " + VALID_MODEL + "}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": {\"content\": \"</s>\"}}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(dir));
        assertNames(e, "tokenizer_config.json", "field eos_token", "</s>");
    }

    @Test
    void malformedConfig() throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": " + VALID_MODEL + "}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": \"yes\"}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(dir));
        assertNames(e, "tokenizer_config.json", "field add_bos_token");
    }

    @Test
    void aMinimalFileLoads() throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": " + VALID_MODEL + "}");
        Tokenizer t = Tokenizers.load(dir);
        assertEquals(3, t.vocabSize());
        assertEquals(-1, t.bosId());
        assertEquals(java.util.List.of(), t.eosIds());
    }
}
