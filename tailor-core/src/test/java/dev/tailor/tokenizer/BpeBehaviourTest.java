package dev.tailor.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Options of the BPE model, pre-tokenizers and added tokens, on small hand-written tokenizer files. */
class BpeBehaviourTest {
    @TempDir
    Path dir;

    private Tokenizer load(String tokenizerJson) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson);
        return Tokenizers.load(dir);
    }

    @Test
    void mergesApplyByRankNotByPosition() throws IOException {
        Tokenizer t = load("""
                {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "bc": 3, "ab": 4},
                 "merges": ["b c", "a b"]}}""");
        assertArrayEquals(new int[] {0, 3}, t.encode("abc", false), "b c has the lower rank, so a + bc");
        assertArrayEquals(new int[] {4, 4}, t.encode("abab", false));
    }

    @Test
    void ignoreMergesEmitsAWordThatIsInTheVocabulary() throws IOException {
        String model = """
                {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4}, "merges": [["a", "b"]],
                 "ignore_merges": %s}""";
        assertArrayEquals(new int[] {3, 2}, load("{\"model\": " + model.formatted("false") + "}").encode("abc", false));
        assertArrayEquals(new int[] {4}, load("{\"model\": " + model.formatted("true") + "}").encode("abc", false));
    }

    @Test
    void unknownCharactersAreFusedOnlyWithFuseUnk() throws IOException {
        String model = """
                {"type": "BPE", "vocab": {"<unk>": 0, "a": 1}, "merges": [], "unk_token": "<unk>", "fuse_unk": %s}""";
        assertArrayEquals(new int[] {1, 0, 1},
                load("{\"model\": " + model.formatted("true") + "}").encode("axyza", false));
        assertArrayEquals(new int[] {1, 0, 0, 0, 1},
                load("{\"model\": " + model.formatted("false") + "}").encode("axyza", false));
    }

    @Test
    void byteFallbackSpellsOutUnknownCharactersAsUtf8() throws IOException {
        Tokenizer t = load("""
                {"model": {"type": "BPE", "vocab": {"<unk>": 0, "<0xC3>": 1, "<0xA9>": 2, "a": 3}, "merges": [],
                 "unk_token": "<unk>", "byte_fallback": true},
                 "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]}}""");
        assertArrayEquals(new int[] {3, 1, 2, 0}, t.encode("aé€", false), "é is C3 A9; € has no byte tokens");
        assertEquals("aé", t.decode(new int[] {3, 1, 2}, false));
    }

    @Test
    void legacyMetaspacePreTokenizerSplitsBeforeEachSpace() throws IOException {
        Tokenizer t = load("""
                {"model": {"type": "BPE", "vocab": {"▁": 0, "a": 1, "b": 2, "▁a": 3, "▁b": 4, "ab": 5, "▁ab": 6,
                 "▁▁": 7}, "merges": ["▁ a", "▁ b", "a b", "▁a b", "▁ ▁"]},
                 "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
                 "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true}}""");
        assertArrayEquals(new int[] {6, 6}, t.encode("ab ab", false));
        assertArrayEquals(new int[] {4, 0, 3}, t.encode("b  a", false), "no ▁▁: every ▁ starts a word");
        assertEquals("ab ab", t.decode(new int[] {6, 6}, false));
    }

    @Test
    void addedTokensHonourStripAndSingleWord() throws IOException {
        Tokenizer t = load("""
                {"model": {"type": "BPE", "vocab": {" ": 0, "a": 1, "b": 2, "c": 3}, "merges": []},
                 "added_tokens": [
                  {"id": 4, "content": "<m>", "special": true, "lstrip": true, "rstrip": true,
                   "single_word": false, "normalized": false},
                  {"id": 5, "content": "ab", "special": false, "lstrip": false, "rstrip": false,
                   "single_word": true, "normalized": false},
                  {"id": 6, "content": "<m><m>", "special": true, "lstrip": false, "rstrip": false,
                   "single_word": false, "normalized": false}]}""");
        assertArrayEquals(new int[] {1, 4, 2}, t.encode("a  <m> b", false, true), "the spaces go with <m>");
        assertArrayEquals(new int[] {5, 0, 3, 1, 2}, t.encode("ab cab", false), "ab only as a whole word");
        assertArrayEquals(new int[] {6}, t.encode("<m><m>", false, true), "longest match first");
        assertEquals("ab", t.decode(new int[] {5, 4}, true), "non-special added tokens are kept");
    }

    @Test
    void templatePostProcessorAddsItsTokensAroundTheSequence() throws IOException {
        Tokenizer t = load("""
                {"model": {"type": "BPE", "vocab": {"a": 0, "<bos>": 1, "<eos>": 2}, "merges": []},
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
                 "post_processor": {"type": "Sequence", "processors": [
                   {"type": "ByteLevel", "trim_offsets": false},
                   {"type": "TemplateProcessing",
                    "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                               {"SpecialToken": {"id": "<eos>", "type_id": 0}}],
                    "special_tokens": {"<bos>": {"id": "<bos>", "ids": [1], "tokens": ["<bos>"]},
                                       "<eos>": {"id": "<eos>", "ids": [2], "tokens": ["<eos>"]}}}]}}""");
        assertArrayEquals(new int[] {1, 0, 0, 2}, t.encode("aa", true));
        assertArrayEquals(new int[] {0, 0}, t.encode("aa", false));
    }

    @Test
    void sentencePieceConfigFlagsOverrideThePostProcessor() throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"add_bos_token": false, "add_eos_token": true, "bos_token": "<s>", "eos_token": {"content": "</s>"}}""");
        Tokenizer t = load("""
                {"model": {"type": "BPE", "vocab": {"<s>": 0, "</s>": 1, "▁": 2, "a": 3, "▁a": 4}, "merges": ["▁ a"]},
                 "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                   {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
                 "post_processor": {"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                   "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}}}}""");
        assertArrayEquals(new int[] {4, 4, 1}, t.encode("a a", true));
        assertEquals(0, t.bosId());
        assertEquals(java.util.List.of(1), t.eosIds());
    }
}
