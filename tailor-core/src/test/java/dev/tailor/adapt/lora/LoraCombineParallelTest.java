package dev.tailor.adapt.lora;

import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.Parallel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link LoraCombine} runs its modules in parallel: the result must be bit for bit what combining each module on its
 * own gives (a single module runs on the calling thread alone), whatever {@link Parallel#threads()} is.
 */
class LoraCombineParallelTest {
    /** Hidden 64, ffn 96: the *_svd types decompose [64, 96] and [96, 64] matrices densely. */
    private static final ModelConfig CONFIG = new ModelConfig("llama", 64, 96, 2, 4, 2, 16, 1e-5, 10000.0, null, 50,
            64, false, false, false, 1, List.of(2));
    private static final List<Double> WEIGHTS = List.of(0.7, -0.4, 1.3);

    private static LoraModel adapter(int r, double alpha, boolean rslora, long seed) {
        LoraConfig settings = new LoraConfig(r, alpha, 0, List.of("all-linear"), rslora, null);
        // every adapter gives layer 0's gate_proj rank 2, so the types that need one rank per module can combine it
        LoraPatterns patterns = new LoraPatterns(Map.of("model.layers.0.mlp.gate_proj", 2), Map.of("o_proj", 3.0));
        LoraModel m = new LoraModel(settings, LoraFiles.create(settings, patterns, CONFIG, seed),
                patterns.rankPattern(), patterns.alphaPattern());
        TinyRandomLlama.perturb(m.sites().parameters(), 0.5, seed + 1);
        return m;
    }

    @ParameterizedTest
    @EnumSource(CombinationType.class)
    void eachModuleIsWhatCombiningItAloneGives(CombinationType type) {
        List<LoraModel> adapters = List.of(adapter(4, 8, false, 1), adapter(4, 4, true, 2), adapter(4, 16, false, 3));
        CombineOptions options = new CombineOptions(type, type.merge() == CombinationType.TaskMerge.SUM ? null : 0.5,
                MajoritySignMethod.TOTAL, type.svd() ? 5 : null, type.svd() ? 0.99 : null, 11);
        LoraModel whole = LoraCombine.combine(adapters, WEIGHTS, options);
        LoraModel again = LoraCombine.combine(adapters, WEIGHTS, options);
        assertEquals(14, whole.modules().size());
        for (String module : whole.modules().keySet()) {
            List<LoraModel> alone = new ArrayList<>();
            for (LoraModel a : adapters) {
                alone.add(new LoraModel(a.settings(), Map.of(module, a.modules().get(module)), a.rankPattern(),
                        a.alphaPattern()));
            }
            LoraLayer expected = LoraCombine.combine(alone, WEIGHTS, options).modules().get(module);
            for (int t = 0; t < 2; t++) {
                String what = type + " " + module + (t == 0 ? " lora_A" : " lora_B") + " on " + Parallel.threads()
                        + " threads";
                assertArrayEquals(expected.parameters().get(t).shape(), whole.modules().get(module)
                        .parameters().get(t).shape(), what);
                assertArrayEquals(expected.parameters().get(t).data(), whole.modules().get(module)
                        .parameters().get(t).data(), what);
                assertArrayEquals(expected.parameters().get(t).data(), again.modules().get(module)
                        .parameters().get(t).data(), what + ", second run");
            }
        }
        assertEquals(whole.rankPattern(), again.rankPattern());
    }
}
