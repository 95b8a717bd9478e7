package dev.tailor.tokenizer;

import dev.tailor.Shared;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Special tokens, ids from the config and streaming decoding on the real Llama 2, Llama 3 and Qwen3 tokenizers. */
class ReferenceTokenizerTest {

    private static BpeTokenizer load(String dir) {
        return Tokenizers.load(Shared.require(dir));
    }

    @Test
    void tinyLlamaSpecialIdsComeFromTheConfig() {
        BpeTokenizer t = load("models/tiny-llama");
        assertEquals(32000, t.vocabSize());
        assertEquals(1, t.bosId());
        assertEquals(List.of(2), t.eosIds());
        assertEquals(-1, t.padId());
        assertEquals("▁Hello", t.token(15043));
        assertEquals("<0x0A>", t.token(13));
        assertEquals(null, t.token(32000));
    }

    @Test
    void llama3AndQwen3SpecialIds() {
        BpeTokenizer llama3 = load("tokenizers/llama3");
        assertEquals(128256, llama3.vocabSize());
        assertEquals(128000, llama3.bosId());
        assertEquals(List.of(128001), llama3.eosIds());
        BpeTokenizer qwen3 = load("tokenizers/qwen3");
        assertEquals(151669, qwen3.vocabSize());
        assertEquals(-1, qwen3.bosId());
        assertEquals(List.of(151645), qwen3.eosIds());
        assertEquals(151643, qwen3.padId());
        assertTrue(qwen3.isSpecial(151645));
        assertFalse(qwen3.isSpecial(151667), "<think> is an added token but not special");
    }

    @Test
    void sentencePieceReadsControlTokensAsTextUnlessAsked() {
        BpeTokenizer t = load("models/tiny-llama");
        assertArrayEquals(new int[] {529, 29879, 29958, 2918}, t.encode("<s>hi", false), "▁< s > hi");
        assertArrayEquals(new int[] {1, 7251}, t.encode("<s>hi", false, true), "<s> ▁hi: the text after a token gets its own ▁");
        assertArrayEquals(new int[] {7251, 2}, t.encode("hi</s>", false, true));
    }

    @Test
    void byteLevelMatchesSpecialTokensUnlessAsked() {
        BpeTokenizer t = load("tokenizers/llama3");
        int[] parsed = t.encode("hi<|eot_id|>", false);
        assertEquals(128009, parsed[parsed.length - 1]);
        int[] literal = t.encode("hi<|eot_id|>", false, false);
        for (int id : literal) {
            assertTrue(id < 128000, "special token matched although parseSpecial is false");
        }
        assertEquals("hi<|eot_id|>", t.decode(literal, true));
    }

    @Test
    void decodeSkipsSpecialTokensOnRequest() {
        BpeTokenizer llama3 = load("tokenizers/llama3");
        int[] ids = {128000, 9906, 1917, 128009};
        assertEquals("<|begin_of_text|>Hello world<|eot_id|>", llama3.decode(ids, false));
        assertEquals("Hello world", llama3.decode(ids, true));
        BpeTokenizer llama2 = load("models/tiny-llama");
        assertEquals("<s> Hello world", llama2.decode(new int[] {1, 15043, 3186}, false));
        assertEquals("Hello world", llama2.decode(new int[] {1, 15043, 3186}, true));
        assertThrows(IllegalArgumentException.class, () -> llama2.decode(new int[] {32000}, false));
    }

    @Test
    void streamingHoldsBackByteFallbackPiecesOfAnEmoji() {
        BpeTokenizer t = load("models/tiny-llama");
        int[] ids = t.encode("🦙界", false);
        assertArrayEquals(new int[] {29871, 243, 162, 169, 156, 30967}, ids, "▁, four byte tokens, 界");
        StreamingDecoder stream = t.streamingDecoder(false);
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(stream.next(id));
        }
        assertEquals(List.of("", "", "", "", "🦙", "界"), pieces, "the leading ▁ is stripped, bytes wait");
        assertEquals("", stream.flush());
    }

    @Test
    void streamingHoldsBackByteLevelPiecesOfEmojiAndCjk() {
        for (String dir : List.of("tokenizers/llama3", "tokenizers/qwen3")) {
            BpeTokenizer t = load(dir);
            String text = "emoji 🦙🚀 and 日本語のテキスト 👩‍👩‍👧";
            StreamingDecoder stream = t.streamingDecoder(false);
            StringBuilder out = new StringBuilder();
            int heldBack = 0;
            for (int id : t.encode(text, false)) {
                String piece = stream.next(id);
                assertEquals(-1, piece.indexOf('\uFFFD'), dir + " emitted half a character");
                heldBack += piece.isEmpty() ? 1 : 0;
                out.append(piece);
            }
            out.append(stream.flush());
            assertEquals(text, out.toString(), dir);
            assertTrue(heldBack > 0, dir + ": some token must end inside a character for this test to mean anything");
        }
    }

    @Test
    void flushTurnsAnUnfinishedCharacterIntoReplacement() {
        BpeTokenizer t = load("models/tiny-llama");
        StreamingDecoder stream = t.streamingDecoder(false);
        assertEquals("", stream.next(243));
        assertEquals("", stream.next(162));
        assertEquals("\uFFFD", stream.flush());
        assertEquals("a", stream.next(29874), "after a flush the decoder starts afresh (no leading-space strip)");
    }
}
