package dev.tailor.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.tailor.adapt.lora.TinyRandomLlama;
import dev.tailor.model.KvCache;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.SequenceChunk;
import dev.tailor.tensor.MatMulNN;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link KvCachePool}: capacities rounded up, a given-back cache taken again reset, and the pool's limits. */
class KvCachePoolTest {
    private static final ModelConfig CONFIG = new ModelConfig("llama", 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, null, 64,
            200, false, false, false, 1, List.of(2));
    private final LlamaModel model = new LlamaModel(CONFIG, TinyRandomLlama.weights(CONFIG, 3), null);

    @Test
    void aCacheGivenBackIsTakenAgainForAnyLengthOfItsRoundedCapacityAndIsReset() {
        KvCachePool pool = new KvCachePool(4, Long.MAX_VALUE);
        KvCache first = pool.take(model, 30);
        assertEquals(64, first.capacity(), "rounded up to the grain");
        model.forwardBatch(List.of(new SequenceChunk(model, first, new int[] {5, 9, 11}, true)));
        assertEquals(3, first.length());

        pool.give(first);
        assertEquals(1, pool.size());
        KvCache again = pool.take(model, 64);
        assertSame(first, again, "a need of 64 positions takes the cache of 64");
        assertEquals(0, again.length());
        assertEquals(0, pool.size());
        KvCache fresh = model.newCache(64);
        float[] logitsReused = model.forwardBatch(List.of(new SequenceChunk(model, again, new int[] {7, 2}, true)))[0];
        float[] logitsFresh = model.forwardBatch(List.of(new SequenceChunk(model, fresh, new int[] {7, 2}, true)))[0];
        assertArrayEquals(logitsFresh, logitsReused, "a reset cache is as new");

        pool.give(again);
        assertNotSame(again, pool.take(model, 65), "65 positions need a cache of 128");
        assertEquals(128, pool.take(model, 65).capacity());
        assertEquals(200, pool.take(model, 195).capacity(), "at most the context");
        assertEquals(1, pool.size(), "the cache of 64 still waits");
    }

    @Test
    void thePoolKeepsAtMostItsCountAndItsBytes() {
        KvCachePool byCount = new KvCachePool(2, Long.MAX_VALUE);
        for (int i = 0; i < 3; i++) {
            byCount.give(model.newCache(64));
        }
        assertEquals(2, byCount.size());
        byCount.give(null);
        assertEquals(2, byCount.size());

        long one = model.newCache(64).bytes();
        KvCachePool byBytes = new KvCachePool(10, 2 * one + one / 2);
        for (int i = 0; i < 3; i++) {
            byBytes.give(model.newCache(64));
        }
        assertEquals(2, byBytes.size());
        int perLayer = 64 * CONFIG.kvDim() + MatMulNN.SLACK + 64 * CONFIG.kvDim();
        assertEquals((long) Float.BYTES * CONFIG.numLayers() * perLayer, one, "keys (and their slack) and values");
    }
}
