package dev.tailor.tokenizer;

import dev.tailor.Hostile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Token ids of the hostile corpus ({@code hostile/tokenizer/}) are refused before anything is sized by them: an id
 * must be an int JSON number below the number of vocabulary entries plus added tokens.
 */
class HostileTokenizerTest {
    @TempDir
    Path dir;

    private void refused(String corpusFile, String... fragments) {
        Path file = Hostile.copy("tokenizer/" + corpusFile, dir, Tokenizers.TOKENIZER_JSON);
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(dir));
        assertTrue(e.getMessage().startsWith(file + ": field "), "names the file: " + e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "mentions '" + fragment + "': " + e.getMessage());
        }
    }

    @Test
    void aVocabIdFarBeyondTheVocabularyIsRefusedWithoutAllocatingForIt() {
        refused("vocab-id-huge.json", "model.vocab[\"ab\"]", "id 1000000000 is out of range", "below 3");
    }

    @Test
    void anAddedTokenIdOfIntMaxIsRefused() {
        refused("added-id-int-max.json", "added_tokens[0].id", "id 2147483647 is out of range", "below 4");
    }

    @Test
    void anAddedTokenIdBeyondIntRangeIsRefusedRatherThanWrapped() {
        refused("added-id-wraps.json", "added_tokens[0].id", "non-negative integer id, got 4294967301");
    }

    @Test
    void aNullNormalizerStepIsRefusedRatherThanFailingOnFirstEncode() {
        refused("normalizer-sequence-null-step.json", "normalizer.normalizers[1]", "expected an object", "got null");
    }

    @Test
    void aNullPreTokenizerStepIsRefusedRatherThanTakenAsNoSplitting() {
        refused("pre-tokenizer-sequence-null-step.json", "pre_tokenizer.pretokenizers[0]", "expected an object",
                "got null");
    }

    @Test
    void aNegativeAddedTokenIdIsRefused() {
        refused("added-id-negative.json", "added_tokens[0].id", "got -1");
    }

    @Test
    void aFractionalAddedTokenIdIsRefused() {
        refused("added-id-fraction.json", "added_tokens[0].id", "got 3.5");
    }

    @Test
    void aPostProcessorIdBeyondIntRangeIsRefusedRatherThanWrapped() {
        refused("post-processor-id-wraps.json", "post_processor.special_tokens[\"<s>\"].ids[0]", "got 4294967296");
    }

    @Test
    void addedTokensMayExtendTheVocabularyDensely() throws IOException {
        Files.writeString(dir.resolve(Tokenizers.TOKENIZER_JSON), """
                {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
                 "added_tokens": [{"id": 3, "content": "<s>", "special": true}]}""");
        BpeTokenizer t = Tokenizers.load(dir);
        assertEquals(4, t.vocabSize());
        assertEquals("<s>", t.token(3));
    }
}
