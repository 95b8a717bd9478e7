package dev.tailor.adapt.lora;

import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.Parameter;
import dev.tailor.tensor.SvdOracle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The combination methods against independent computations of ΔW, and every result against itself after saving
 * and loading (so the saved r, lora_alpha, rank_pattern and alpha_pattern give each module's ΔW back).
 */
class LoraCombineMethodsTest {
    private static final ModelConfig CONFIG = new ModelConfig("llama", 16, 24, 2, 4, 2, 4, 1e-5, 10000.0, null, 50,
            64, false, false, false, 1, List.of(2));

    @TempDir
    Path dir;

    private static LoraModel random(LoraConfig s, long seed) {
        LoraModel m = LoraModel.create(s, CONFIG, seed);
        SplittableRandom rnd = new SplittableRandom(seed + 100);
        for (LoraLayer a : m.modules().values()) {
            Parameter b = a.parameters().get(1);
            for (int i = 0; i < b.size(); i++) {
                b.data()[i] = (float) rnd.nextDouble(-0.5, 0.5);
            }
        }
        return m;
    }

    /** Saves and reloads {@code m}, checks every module's ΔW survives, and returns the reloaded model. */
    private LoraModel roundTrip(LoraModel m, String name) {
        m.save(dir.resolve(name), "base", null);
        LoraModel loaded = (LoraModel) dev.tailor.adapt.AdapterFiles.load(dir.resolve(name));
        assertEquals(m.modules().keySet(), loaded.modules().keySet());
        for (String module : m.modules().keySet()) {
            float[] expected = m.modules().get(module).delta();
            float[] actual = loaded.modules().get(module).delta();
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-6 * (1 + Math.abs(expected[i])), name + " " + module);
            }
        }
        return loaded;
    }

    private static double[] dense(LoraLayer a) {
        float[] d = a.delta();
        double[] out = new double[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = d[i];
        }
        return out;
    }

    private static void assertClose(double[] expected, float[] actual, double tol, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, what + "[" + i + "]");
        }
    }

    @Test
    void linearIsTheProductOfTheSqrtWeightedSumsOfAAndB() {
        LoraModel first = random(new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj"), false, null), 1);
        LoraModel second = random(new LoraConfig(4, 6, 0, List.of("v_proj", "down_proj"), true, null), 2);
        double[] w = {0.6, -0.4};
        LoraModel combined = roundTrip(LoraCombine.combine(List.of(first, second), List.of(0.6, -0.4),
                CombineOptions.of(CombinationType.LINEAR)), "linear");
        assertEquals(4, combined.settings().r());
        assertEquals(4.0, combined.settings().loraAlpha());
        assertFalse(combined.settings().useRslora());
        assertEquals(List.of("down_proj", "q_proj", "v_proj"), combined.settings().targetModules());
        assertEquals(6, combined.modules().size());
        for (var e : combined.modules().entrySet()) {
            String module = e.getKey();
            LoraLayer[] parts = {first.modules().get(module), second.modules().get(module)};
            int out = e.getValue().out();
            int in = e.getValue().in();
            // B = Σ √|wᵢsᵢ|·Bᵢ, A = Σ sign(wᵢsᵢ)·√|wᵢsᵢ|·Aᵢ, over the adapters that have the module
            double[] b = new double[out * 4];
            double[] a = new double[4 * in];
            for (int i = 0; i < 2; i++) {
                if (parts[i] == null) {
                    continue;
                }
                double ws = w[i] * (i == 0 ? 8.0 / 4 : 6.0 / Math.sqrt(4));
                assertEquals(ws / w[i], parts[i].scale(), 1e-6);
                double root = Math.sqrt(Math.abs(ws));
                for (int j = 0; j < b.length; j++) {
                    b[j] += root * parts[i].parameters().get(1).data()[j];
                }
                for (int j = 0; j < a.length; j++) {
                    a[j] += Math.signum(ws) * root * parts[i].parameters().get(0).data()[j];
                }
            }
            double[] expected = new double[out * in];
            for (int o = 0; o < out; o++) {
                for (int k = 0; k < 4; k++) {
                    for (int j = 0; j < in; j++) {
                        expected[o * in + j] += b[o * 4 + k] * a[k * in + j];
                    }
                }
            }
            assertClose(expected, e.getValue().delta(), 1e-5, module);
        }
    }

    @Test
    void svdOfARankKDeltaToRankKReproducesIt() {
        LoraModel first = random(new LoraConfig(3, 8, 0, List.of("q_proj", "up_proj"), false, null), 3);
        LoraModel zero = LoraModel.create(new LoraConfig(3, 8, 0, List.of("q_proj", "up_proj"), false, null),
                CONFIG, 4);
        LoraModel combined = roundTrip(LoraCombine.combine(List.of(first, zero), List.of(1.5, 1.0),
                CombineOptions.of(CombinationType.SVD)), "svd");
        assertEquals(3, combined.settings().r(), "svd_rank defaults to the largest rank");
        for (var e : combined.modules().entrySet()) {
            assertEquals(3, e.getValue().rank());
            double[] expected = dense(first.modules().get(e.getKey()));
            for (int i = 0; i < expected.length; i++) {
                expected[i] *= 1.5;
            }
            assertClose(expected, e.getValue().delta(), 1e-4, e.getKey());
        }
    }

    @Test
    void svdTruncationLosesExactlyTheTailAndPatternsRoundTrip() {
        LoraConfig s = new LoraConfig(4, 8, 0, List.of("q_proj", "k_proj"), false, null);
        LoraModel first = random(s, 5);
        LoraModel second = random(new LoraConfig(6, 3, 0, List.of("q_proj", "k_proj"), true, List.of(1)), 6);
        for (int rank : new int[] {3, 7, 12}) {
            CombineOptions options = new CombineOptions(CombinationType.SVD, null, null, rank, null, 0);
            LoraModel combined = roundTrip(LoraCombine.combine(List.of(first, second), List.of(0.7, 0.5), options),
                    "svd" + rank);
            assertEquals(rank, combined.settings().r());
            for (var e : combined.modules().entrySet()) {
                String module = e.getKey();
                LoraLayer a = e.getValue();
                double[] target = dense(first.modules().get(module));
                for (int i = 0; i < target.length; i++) {
                    target[i] *= 0.7;
                }
                if (second.modules().containsKey(module)) {
                    double[] d2 = dense(second.modules().get(module));
                    for (int i = 0; i < target.length; i++) {
                        target[i] += 0.5 * d2[i];
                    }
                }
                int k = Math.min(rank, Math.min(a.out(), a.in()));
                assertEquals(k, a.rank(), module);
                assertEquals(k != rank, combined.rankPattern().containsKey(module), module + " in rank_pattern");
                double[] sigma = SvdOracle.singularValues(target, a.out(), a.in());
                double[] actual = dense(a);
                assertEquals(SvdOracle.tail(sigma, k), SvdOracle.frobeniusDistance(target, actual),
                        1e-4 * sigma[0], module + " rank " + k);
            }
        }
    }

    @Test
    void tiesOfAnAdapterWithItselfIsThatAdapter() {
        LoraModel first = random(new LoraConfig(2, 4, 0, List.of("o_proj"), false, null), 7);
        LoraModel combined = roundTrip(LoraCombine.combine(List.of(first, first), List.of(1.0, 1.0),
                CombineOptions.of(CombinationType.TIES, 1)), "ties");
        for (var e : combined.modules().entrySet()) {
            assertClose(dense(first.modules().get(e.getKey())), e.getValue().delta(), 1e-5, e.getKey());
        }
        // at density 0.5 each of A and B keeps half its entries (the largest), and still agrees with itself
        LoraModel half = LoraCombine.combine(List.of(first, first), List.of(1.0, 1.0),
                CombineOptions.of(CombinationType.TIES, 0.5));
        for (var e : half.modules().entrySet()) {
            LoraLayer original = first.modules().get(e.getKey());
            float[] a = e.getValue().parameters().get(0).data();
            float[] expected = TaskArithmetic.pruneMagnitude(original.parameters().get(0).data(), 0.5);
            double root = Math.sqrt(original.scale());
            for (int i = 0; i < a.length; i++) {
                assertEquals(root * expected[i], a[i], 1e-6, e.getKey() + " A[" + i + "]");
            }
        }
    }

    @Test
    void dareIsSeededAndAtFullDensityEqualsLinear() {
        LoraConfig s = new LoraConfig(2, 4, 0, List.of("gate_proj"), false, null);
        List<LoraModel> two = List.of(random(s, 8), random(s, 9));
        List<Double> w = List.of(0.5, 0.8);
        LoraModel linear = LoraCombine.combine(two, w, CombineOptions.of(CombinationType.LINEAR));
        LoraModel dense = LoraCombine.combine(two, w, CombineOptions.of(CombinationType.DARE_LINEAR, 1));
        LoraModel ties = LoraCombine.combine(two, w, CombineOptions.of(CombinationType.TIES, 1));
        LoraModel dareTies = LoraCombine.combine(two, w, CombineOptions.of(CombinationType.DARE_TIES, 1));
        for (String module : linear.modules().keySet()) {
            assertClose(dense(linear.modules().get(module)), dense.modules().get(module).delta(), 0, module);
            assertClose(dense(ties.modules().get(module)), dareTies.modules().get(module).delta(), 0, module);
        }
        CombineOptions seeded = new CombineOptions(CombinationType.DARE_TIES, 0.4, MajoritySignMethod.FREQUENCY,
                null, null, 42);
        LoraModel once = roundTrip(LoraCombine.combine(two, w, seeded), "dare");
        LoraModel again = LoraCombine.combine(two, w, seeded);
        LoraModel other = LoraCombine.combine(two, w, new CombineOptions(CombinationType.DARE_TIES, 0.4,
                MajoritySignMethod.FREQUENCY, null, null, 43));
        for (String module : once.modules().keySet()) {
            assertClose(dense(again.modules().get(module)), once.modules().get(module).delta(), 1e-6, module);
            assertFalse(java.util.Arrays.equals(once.modules().get(module).parameters().get(0).data(),
                    other.modules().get(module).parameters().get(0).data()), "another seed prunes otherwise");
        }
    }

    @Test
    void prunedSvdTypesAndClampRoundTrip() {
        LoraConfig s = new LoraConfig(3, 6, 0, List.of("down_proj"), false, null);
        List<LoraModel> two = List.of(random(s, 10), random(s, 11));
        for (CombinationType type : List.of(CombinationType.TIES_SVD, CombinationType.DARE_LINEAR_SVD,
                CombinationType.DARE_TIES_SVD, CombinationType.MAGNITUDE_PRUNE_SVD, CombinationType.MAGNITUDE_PRUNE)) {
            LoraModel m = roundTrip(LoraCombine.combine(two, List.of(1.0, 0.5),
                    new CombineOptions(type, 0.7, MajoritySignMethod.TOTAL, 2, null, 1)), type.peftName());
            int expectedRank = type.svd() ? 2 : 3;
            m.modules().values().forEach(a -> assertEquals(expectedRank, a.rank(), type.peftName()));
        }
        LoraModel plain = LoraCombine.combine(two, List.of(1.0, 0.5),
                new CombineOptions(CombinationType.SVD, null, null, 2, null, 0));
        LoraModel clamped = LoraCombine.combine(two, List.of(1.0, 0.5),
                new CombineOptions(CombinationType.SVD, null, null, 2, 0.9, 0));
        for (String module : plain.modules().keySet()) {
            float[] b = plain.modules().get(module).parameters().get(1).data();
            float[] a = plain.modules().get(module).parameters().get(0).data();
            float hi = LoraCombine.quantile(b, a, 0.9);
            assertTrue(hi > 0, "the 0.9 quantile of the entries is positive");
            float[] cb = clamped.modules().get(module).parameters().get(1).data();
            float[] ca = clamped.modules().get(module).parameters().get(0).data();
            for (int i = 0; i < b.length; i++) {
                assertEquals(Math.max(-hi, Math.min(hi, b[i])), cb[i], 0f, module + " B[" + i + "]");
            }
            for (int i = 0; i < a.length; i++) {
                assertEquals(Math.max(-hi, Math.min(hi, a[i])), ca[i], 0f, module + " A[" + i + "]");
            }
        }
        assertEquals(2.5f, LoraCombine.quantile(new float[] {4, 1}, new float[] {2, 3}, 0.5), 0f);
        assertEquals(3.7f, LoraCombine.quantile(new float[] {4, 1}, new float[] {2, 3}, 0.9), 1e-6f);
    }

    @Test
    void ranksAndOptionsAreChecked() {
        LoraModel r4 = random(new LoraConfig(4, 8, 0, List.of("q_proj"), false, null), 1);
        LoraModel r2 = random(new LoraConfig(2, 8, 0, List.of("q_proj"), false, null), 2);
        var e = assertThrows(IllegalArgumentException.class, () -> LoraCombine.combine(List.of(r4, r2),
                List.of(1.0, 1.0), CombineOptions.of(CombinationType.LINEAR)));
        assertTrue(e.getMessage().contains("same r") && e.getMessage().contains("[4, 2]"), e.getMessage());
        assertEquals(6, LoraCombine.combine(List.of(r4, r2), List.of(1.0, 1.0),
                CombineOptions.of(CombinationType.CAT)).settings().r());
        e = assertThrows(IllegalArgumentException.class, () -> CombineOptions.of(CombinationType.TIES));
        assertTrue(e.getMessage().contains("density"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CombineOptions.of(CombinationType.DARE_LINEAR, 0));
        assertTrue(e.getMessage().contains("(0, 1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CombinationType.parse("average"));
        assertTrue(e.getMessage().contains("dare_ties"), e.getMessage());
        // one adapter is always combined linearly: weight 1 gives it back whatever the method
        LoraModel alone = LoraCombine.combine(List.of(r4), List.of(1.0), CombineOptions.of(CombinationType.SVD));
        assertClose(dense(r4.modules().get("model.layers.0.self_attn.q_proj")),
                alone.modules().get("model.layers.0.self_attn.q_proj").delta(), 1e-6, "one adapter");
        Map<String, Integer> none = alone.rankPattern();
        assertTrue(none.isEmpty());
    }
}
