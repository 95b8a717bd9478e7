package dev.tailor.adapt.lora;

import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cat} combination: ΔW is exactly the weighted sum, per-module ranks and scales survive save and load. */
class LoraCombineTest {
    private static final ModelConfig CONFIG = new ModelConfig("llama", 16, 24, 2, 4, 2, 4, 1e-5, 10000.0, null, 50,
            64, false, false, false, 1, List.of(2));

    private static Map<String, LoraLayer> random(LoraConfig s, long seed) {
        Map<String, LoraLayer> adapters = LoraFiles.create(s, CONFIG, seed);
        SplittableRandom rnd = new SplittableRandom(seed + 100);
        for (LoraLayer a : adapters.values()) {
            Parameter b = a.parameters().get(1);
            for (int i = 0; i < b.size(); i++) {
                b.data()[i] = (float) rnd.nextDouble(-0.5, 0.5);
            }
        }
        return adapters;
    }

    @Test
    void catIsTheExactWeightedSumAndRoundTrips(@TempDir Path dir) {
        Map<String, LoraLayer> first = random(new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj"), false, null), 1);
        Map<String, LoraLayer> second = random(new LoraConfig(2, 16, 0, List.of("v_proj", "down_proj"), true,
                List.of(1)), 2);
        LoraFiles.save(dir.resolve("a"), new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj"), false, null),
                first, "base", "sha256:same");
        LoraFiles.save(dir.resolve("b"), new LoraConfig(2, 16, 0, List.of("v_proj", "down_proj"), true,
                List.of(1)), second, "base", "sha256:same");
        LoraCombine.combine(List.of(dir.resolve("a"), dir.resolve("b")), List.of(0.7, 0.3),
                CombineOptions.of(CombinationType.CAT), dir.resolve("c"));
        Map<String, LoraLayer> combined = LoraFiles.load(dir.resolve("c"));
        assertEquals(5, combined.size(), "q and v of both layers, down of layer 1");
        assertEquals(6, combined.get("model.layers.1.self_attn.v_proj").rank());
        assertEquals(4, combined.get("model.layers.0.self_attn.v_proj").rank());
        assertEquals(2, combined.get("model.layers.1.mlp.down_proj").rank());
        for (var e : combined.entrySet()) {
            float[] expected = new float[e.getValue().delta().length];
            addScaled(expected, first.get(e.getKey()), 0.7);
            addScaled(expected, second.get(e.getKey()), 0.3);
            float[] actual = e.getValue().delta();
            for (int i = 0; i < actual.length; i++) {
                assertEquals(expected[i], actual[i], 1e-6, e.getKey() + "[" + i + "]");
            }
        }
        assertEquals("sha256:same", LoraFiles.baseFingerprint(dir.resolve("c")));
    }

    @Test
    void adaptersOfDifferentBasesAreNotCombined(@TempDir Path dir) {
        LoraConfig s = new LoraConfig(2, 4, 0, List.of("q_proj"), false, null);
        LoraFiles.save(dir.resolve("a"), s, random(s, 1), "base", "sha256:one");
        LoraFiles.save(dir.resolve("b"), s, random(s, 2), "base", "sha256:two");
        var e = assertThrows(IllegalArgumentException.class, () -> LoraCombine.combine(
                List.of(dir.resolve("a"), dir.resolve("b")), List.of(1.0, 1.0), CombineOptions.of(CombinationType.CAT),
                dir.resolve("c")));
        assertTrue(e.getMessage().contains("sha256:one") && e.getMessage().contains("sha256:two"), e.getMessage());
    }

    private static void addScaled(float[] into, LoraLayer a, double w) {
        if (a == null) {
            return;
        }
        float[] d = a.delta();
        for (int i = 0; i < d.length; i++) {
            into[i] += (float) (w * d[i]);
        }
    }
}
