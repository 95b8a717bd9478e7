package dev.tailor.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tailor.adapt.lora.TinyRandomLlama;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link LlamaModel#prefill} runs a long prompt {@link LlamaModel#PREFILL_ROWS} tokens at a time. */
class PrefillChunksTest {
    private static final ModelConfig CONFIG = new ModelConfig("llama", 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, null, 64,
            4096, false, false, false, 1, List.of(2));

    @Test
    void aPromptOfSeveralChunksGivesTheLogitsAndCacheOfOnePass() {
        LlamaModel model = new LlamaModel(CONFIG, TinyRandomLlama.weights(CONFIG, 3), null);
        int n = 2 * LlamaModel.PREFILL_ROWS + 37;
        int[] prompt = new SplittableRandom(5).ints(n, 0, CONFIG.vocabSize()).toArray();

        KvCache chunked = model.newCache(n + 1);
        float[] logits = model.prefill(chunked, prompt);
        KvCache whole = model.newCache(n + 1);
        float[] onePass = model.logits(model.forward(whole, prompt), n - 1, n);

        assertEquals(n, chunked.length());
        assertClose(onePass, logits);
        // the next token reads every position the chunks stored
        assertClose(model.decode(whole, 7), model.decode(chunked, 7));
    }

    @Test
    void aPromptTheCacheCannotHoldChangesNothing() {
        LlamaModel model = new LlamaModel(CONFIG, TinyRandomLlama.weights(CONFIG, 3), null);
        KvCache cache = model.newCache(LlamaModel.PREFILL_ROWS + 10);
        int[] prompt = new int[LlamaModel.PREFILL_ROWS + 11];

        assertThrows(ContextOverflowException.class, () -> model.prefill(cache, prompt));
        assertEquals(0, cache.length(), "no chunk was stored before the prompt was refused");
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(scale > 0.1, "the logits are not all near zero");
        assertTrue(diff <= 1e-5 * scale, "largest difference " + diff + " at scale " + scale);
    }
}
