package dev.tailor.train.optim;

import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamWTest {
    private static final float[] P0 = {0.5f, -1.25f, 2.0f, 0.0f, -0.003f};
    private static final float[][] GRADS = {
            {0.1f, -0.2f, 0.3f, 0.0f, 4.0f},
            {-0.05f, 0.4f, 0.25f, 1e-3f, -2.0f},
            {0.2f, -0.1f, -0.6f, -1e-3f, 1.0f},
    };
    private static final double[] LRS = {1e-2, 5e-3, 2e-3};

    /** The formulas of torch.optim.AdamW's documentation, step by step in double. */
    private static double[] reference(double beta1, double beta2, double eps, double wd) {
        double[] p = new double[P0.length];
        double[] m = new double[P0.length];
        double[] v = new double[P0.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = P0[i];
        }
        for (int t = 1; t <= GRADS.length; t++) {
            double lr = LRS[t - 1];
            double bc1 = 1 - Math.pow(beta1, t);
            double bc2 = 1 - Math.pow(beta2, t);
            for (int i = 0; i < p.length; i++) {
                double g = GRADS[t - 1][i];
                p[i] = p[i] - lr * wd * p[i];
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + eps;
                p[i] = p[i] - (lr / bc1) * m[i] / denom;
            }
        }
        return p;
    }

    private static float[] run(AdamW.Config config) {
        Parameter p = new Parameter("w", new long[]{P0.length}, P0.clone());
        AdamW adam = new AdamW(config);
        for (int t = 0; t < GRADS.length; t++) {
            System.arraycopy(GRADS[t], 0, p.grad(), 0, P0.length);
            adam.step(List.of(p), LRS[t]);
        }
        assertEquals(GRADS.length, adam.steps());
        return p.data();
    }

    private static void assertClose(double[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            double tol = 1e-6 * Math.abs(expected[i]) + 1e-9;
            assertEquals(expected[i], actual[i], tol, "element " + i);
        }
    }

    @Test
    void threeStepsMatchTheFormulasWithWeightDecayAndBiasCorrection() {
        AdamW.Config config = new AdamW.Config(0.9, 0.999, 1e-8, 0.1);
        double[] expected = reference(0.9, 0.999, 1e-8, 0.1);
        float[] actual = run(config);
        assertClose(expected, actual);
        // decay matters: without it the result differs by far more than the tolerance
        double[] noDecay = reference(0.9, 0.999, 1e-8, 0.0);
        assertTrue(Math.abs(noDecay[2] - actual[2]) > 1e-3);
    }

    @Test
    void largeLerpWeightBranchMatchesTheFormulas() {
        AdamW.Config config = new AdamW.Config(0.3, 0.95, 1e-6, 0.0);
        assertClose(reference(0.3, 0.95, 1e-6, 0.0), run(config));
    }

    @Test
    void firstStepMovesEachWeightByLrTimesTheGradientSign() {
        // t = 1, no decay: m̂ = g, v̂ = g², so the step is lr · g / (|g| + eps) ≈ lr · sign(g)
        Parameter p = new Parameter("w", new long[]{3}, new float[]{1f, 1f, 1f});
        float[] g = {3f, -0.5f, 0f};
        System.arraycopy(g, 0, p.grad(), 0, 3);
        new AdamW(new AdamW.Config(0.9, 0.999, 1e-8, 0)).step(List.of(p), 0.1);
        assertEquals(0.9f, p.data()[0], 1e-6f);
        assertEquals(1.1f, p.data()[1], 1e-6f);
        assertEquals(1f, p.data()[2]);
    }

    @Test
    void decoupledDecayShrinksWeightsWithZeroGradient() {
        Parameter p = new Parameter("w", new long[]{2}, new float[]{2f, -4f});
        AdamW adam = new AdamW(new AdamW.Config(0.9, 0.999, 1e-8, 0.5));
        adam.step(List.of(p), 0.1);
        adam.step(List.of(p), 0.1);
        // p · (1 − 0.1·0.5)² and m = v = 0, so the Adam term is exactly zero
        assertEquals((float) (2 * 0.95 * 0.95), p.data()[0], 1e-6f);
        assertEquals((float) (-4 * 0.95 * 0.95), p.data()[1], 1e-6f);
    }

    @Test
    void vectorizedKernelEqualsScalarTwinBitForBit() {
        Random rnd = new Random(7);
        for (int n : new int[]{1, 7, 8, 17, 33, 1023, 4099}) {
            for (double beta1 : new double[]{0.9, 0.3}) {
                AdamW.Config config = new AdamW.Config(beta1, 0.999, 1e-8, 0.01);
                float[] p1 = random(rnd, n);
                float[] m1 = new float[n];
                float[] v1 = new float[n];
                float[] p2 = p1.clone();
                float[] m2 = new float[n];
                float[] v2 = new float[n];
                for (int t = 1; t <= 4; t++) {
                    float[] g = random(rnd, n);
                    AdamWKernel.Coefficients c = AdamWKernel.Coefficients.of(config, 1e-3 * t, t);
                    AdamWKernel.update(p1, g, m1, v1, c);
                    AdamWKernel.updateScalar(p2, g, m2, v2, c);
                }
                assertArrayEquals(p2, p1, "params n=" + n + " beta1=" + beta1);
                assertArrayEquals(m2, m1, "exp_avg n=" + n);
                assertArrayEquals(v2, v1, "exp_avg_sq n=" + n);
            }
        }
    }

    @Test
    void savedStateResumesExactly() {
        Random rnd = new Random(3);
        float[] init = random(rnd, 37);
        float[][] grads = {random(rnd, 37), random(rnd, 37), random(rnd, 37), random(rnd, 37)};
        Parameter straight = new Parameter("a", new long[]{37}, init.clone());
        AdamW one = new AdamW(AdamW.Config.defaults());
        for (float[] g : grads) {
            System.arraycopy(g, 0, straight.grad(), 0, 37);
            one.step(List.of(straight), 1e-3);
        }
        Parameter resumed = new Parameter("a", new long[]{37}, init.clone());
        AdamW first = new AdamW(AdamW.Config.defaults());
        for (int t = 0; t < 2; t++) {
            System.arraycopy(grads[t], 0, resumed.grad(), 0, 37);
            first.step(List.of(resumed), 1e-3);
        }
        AdamW second = new AdamW(AdamW.Config.defaults());
        second.load(first.state());
        assertEquals(2, second.steps());
        for (int t = 2; t < 4; t++) {
            System.arraycopy(grads[t], 0, resumed.grad(), 0, 37);
            second.step(List.of(resumed), 1e-3);
        }
        assertArrayEquals(straight.data(), resumed.data());
    }

    @Test
    void rejectsStateOfAnotherOptimizerOrMissingSlot() {
        AdamW adam = new AdamW(AdamW.Config.defaults());
        var sgd = new OptimizerState(Sgd.KIND, 1, java.util.Map.of());
        assertThrows(IllegalArgumentException.class, () -> adam.load(sgd));
        var partial = new OptimizerState(AdamW.KIND, 1,
                java.util.Map.of("w", java.util.Map.of(AdamW.EXP_AVG, new float[2])));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> adam.load(partial));
        assertEquals("adamw state has no exp_avg_sq for parameter w", e.getMessage());
    }

    @Test
    void rejectsBadHyperparameters() {
        assertThrows(IllegalArgumentException.class, () -> new AdamW.Config(1.0, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW.Config(0.9, 0.999, -1, 0));
    }

    static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
