package dev.tailor.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tailor.adapt.lora.TinyRandomLlama;
import dev.tailor.tensor.MatMul;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link LlamaModel#forwardBatch(List, float[][])} writes each asking chunk's logits into the caller's array. */
class BatchLogitsTest {
    private static final ModelConfig CONFIG = new ModelConfig("llama", 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, null, 64,
            4096, false, false, false, 1, List.of(2));
    private final LlamaModel model = new LlamaModel(CONFIG, TinyRandomLlama.weights(CONFIG, 3), null);

    @Test
    void eachAskingChunkGetsTheLogitsItHasAloneAndTheOthersAreLeftAlone() {
        int[][] tokens = {{5, 9, 11}, {7}, {3, 4}, {60, 2, 8, 1}};
        boolean[] asks = {true, false, true, true};
        float[][] alone = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            SequenceChunk c = new SequenceChunk(model, model.newCache(8), tokens[i], true);
            alone[i] = MatMul.batchInvariant(() -> model.forwardBatch(List.of(c)))[0];
        }
        float[] untouched = new float[CONFIG.vocabSize()];
        Arrays.fill(untouched, Float.NaN);
        float[][] logits = new float[tokens.length][];
        SequenceChunk[] chunks = new SequenceChunk[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            logits[i] = asks[i] ? new float[CONFIG.vocabSize()] : untouched.clone();
            chunks[i] = new SequenceChunk(model, model.newCache(8), tokens[i], asks[i]);
        }

        MatMul.batchInvariant(() -> {
            model.forwardBatch(List.of(chunks), logits);
            return null;
        });

        for (int i = 0; i < tokens.length; i++) {
            assertArrayEquals(asks[i] ? alone[i] : untouched, logits[i], "chunk " + i);
        }
        // one asking chunk takes the product's single-row path, straight into its array
        float[][] one = {new float[CONFIG.vocabSize()]};
        SequenceChunk c = new SequenceChunk(model, model.newCache(8), tokens[3], true);
        MatMul.batchInvariant(() -> {
            model.forwardBatch(List.of(c), one);
            return null;
        });
        assertArrayEquals(alone[3], one[0]);
    }

    @Test
    void aMissingOrWrongSizedArrayOrCountIsRefusedBeforeAnyCacheChanges() {
        KvCache cache = model.newCache(8);
        List<SequenceChunk> chunks = List.of(new SequenceChunk(model, cache, new int[] {1, 2}, true));

        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> model.forwardBatch(chunks, new float[1][]));
        IllegalArgumentException shorter = assertThrows(IllegalArgumentException.class,
                () -> model.forwardBatch(chunks, new float[][] {new float[CONFIG.vocabSize() - 1]}));
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> model.forwardBatch(chunks, new float[2][CONFIG.vocabSize()]));

        assertTrue(count.getMessage().contains("1 chunks but 2 arrays"), count.getMessage());
        assertTrue(missing.getMessage().contains("missing"), missing.getMessage());
        assertTrue(shorter.getMessage().contains("[" + (CONFIG.vocabSize() - 1) + "]"), shorter.getMessage());
        assertEquals(0, cache.length(), "the chunk was not run");
    }
}
