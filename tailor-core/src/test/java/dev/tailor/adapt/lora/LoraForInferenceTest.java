package dev.tailor.adapt.lora;

import dev.tailor.adapt.AdapterSize;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LoraModel#forInference}: the same outputs, bit for bit, with {@code Bᵀ} held and counted. */
class LoraForInferenceTest {
    private static final ModelConfig QWEN2 = TinyRandomLlama.QWEN2;
    private final LlamaWeights weights = TinyRandomLlama.weights(QWEN2, 5);
    private final LlamaModel base = new LlamaModel(QWEN2, weights, null);

    @Test
    void theInferenceFormGivesTheSameBitsAsThePairsTransposingBPerCall() {
        for (boolean dora : new boolean[] {false, true}) {
            LoraConfig settings = new LoraConfig(3, 6, 0, List.of("all-linear"), false, null, dora,
                    LoraBias.LORA_ONLY, LoraInit.KAIMING_UNIFORM);
            LoraModel adapter = LoraModel.create(settings, QWEN2, weights, 7);
            TinyRandomLlama.perturb(adapter.parameters(), 0.2, 8);
            LoraModel served = adapter.forInference();
            int[] prompt = {3, 14, 15, 9, 2, 6, 5, 35, 8};
            for (int n : new int[] {1, 4, prompt.length}) {
                int[] tokens = Arrays.copyOf(prompt, n);
                float[] expected = hidden(adapter, tokens);
                assertArrayEquals(expected, hidden(served, tokens), (dora ? "DoRA" : "LoRA") + ", " + n + " rows");
                assertNotEquals(Arrays.toString(hidden(null, tokens)), Arrays.toString(expected),
                        "the adapter changes the output");
            }
        }
    }

    @Test
    void itHoldsBTransposedOnceAndTheCacheCountsIt() {
        LoraModel adapter = LoraModel.create(new LoraConfig(4, 8, 0, List.of("all-linear"), false, null), QWEN2, 2);
        LoraModel served = adapter.forInference();
        long outsTimesR = 0;
        for (LoraLayer pair : adapter.modules().values()) {
            outsTimesR += (long) pair.out() * pair.rank();
            assertEquals(0, pair.heldBytes());
        }
        assertTrue(outsTimesR > 0);
        assertEquals(4 * outsTimesR, served.heldBytes());
        assertEquals(0, adapter.heldBytes());
        assertEquals(AdapterSize.bytes(adapter) + 4 * outsTimesR, AdapterSize.bytes(served));
        LoraModel again = served.forInference();
        served.modules().forEach((module, pair) -> {
            assertSame(pair, again.modules().get(module), module + ": already held, not transposed again");
            assertSame(adapter.modules().get(module).parameters().get(1), pair.parameters().get(1),
                    module + ": the same B, not a copy");
        });
    }

    /** The hidden states of {@code tokens} through {@code adapter} (the base alone when null). */
    private float[] hidden(LoraModel adapter, int[] tokens) {
        LlamaModel view = adapter == null ? base : base.withAdapters(List.of(adapter.sites()));
        return view.forward(view.newCache(tokens.length), tokens);
    }
}
