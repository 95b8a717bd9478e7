package dev.tailor.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tailor.Shared;
import dev.tailor.tensor.WeightMatrix;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link LlamaModel#prepareProducts} makes the regrouped copy of every weight a product multiplies up front (a server
 * does so before it answers; an embedding that is not the lm_head is only looked up and keeps its mapped pages), and
 * the products then give the bits they give when the copies are made on first use.
 */
class PrepareProductsTest {
    @Test
    void everyMappedWeightIsRegroupedUpFrontWithTheSameResults() {
        Path dir = Shared.require("models/tiny-llama");
        int[] ids = {1, 450, 4996, 17354, 1701};
        try (LlamaModel prepared = LlamaModel.load(dir); LlamaModel lazy = LlamaModel.load(dir)) {
            Map<String, Object> tensors = NamedTensors.of(prepared.weights());
            for (Map.Entry<String, Object> e : tensors.entrySet()) {
                if (e.getValue() instanceof WeightMatrix w) {
                    assertFalse(w.hasRegroupedCopy(), e.getKey() + " is regrouped on first use only");
                }
            }
            prepared.prepareProducts();
            WeightMatrix embed = prepared.weights().embed();
            assertTrue(embed != prepared.weights().lmHead(), "the tiny model's embedding is not tied");
            for (Map.Entry<String, Object> e : tensors.entrySet()) {
                if (e.getValue() instanceof WeightMatrix w) {
                    assertTrue(w.dropsMappedPages(), e.getKey() + " is the safetensors file's mapped bytes");
                    assertEquals(w != embed, w.hasRegroupedCopy(), e.getKey() + (w == embed
                            ? " is only looked up, from its mapped pages" : " is regrouped"));
                }
            }
            KvCache a = prepared.newCache(8);
            KvCache b = lazy.newCache(8);
            assertArrayEquals(lazy.prefill(b, ids), prepared.prefill(a, ids));
            assertArrayEquals(lazy.decode(b, 278), prepared.decode(a, 278));
        }
    }
}
