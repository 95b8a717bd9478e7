package dev.tailor.adapt.ia3;

import dev.tailor.model.site.FrozenLinear;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One (IA)³ vector on a small linear with a bias (a qwen2-style q/k/v projection): math, gradients, merge. */
class Ia3LayerTest {
    private static final int OUT = 5;
    private static final int IN = 7;
    private static final int M = 3;

    private static float[] random(SplittableRandom rnd, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(lo, hi);
        }
        return v;
    }

    private static Ia3Layer adapter(boolean feedforward, SplittableRandom rnd) {
        Ia3Layer a = Ia3Layer.create("model.layers.0.self_attn.k_proj", OUT, IN, feedforward);
        float[] l = a.vector().data();
        System.arraycopy(random(rnd, l.length, 0.5, 1.5), 0, l, 0, l.length);
        return a;
    }

    @Test
    void outputScalingScalesTheBiasAndInputScalingDoesNot() {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] w = random(rnd, OUT * IN, -1, 1);
        float[] b = random(rnd, OUT, -2, 2);
        float[] x = random(rnd, M * IN, -1, 1);
        FrozenLinear base = new FrozenLinear(WeightMatrix.of(w, OUT, IN), b);
        Ia3Layer output = adapter(false, rnd);
        Ia3Layer input = adapter(true, rnd);
        assertEquals("base_model.model.model.layers.0.self_attn.k_proj.ia3_l", output.vector().name());
        assertEquals(OUT, output.vector().shape()[0]);
        assertEquals(1, output.vector().shape()[1]);
        assertEquals(1, input.vector().shape()[0]);
        assertEquals(IN, input.vector().shape()[1]);
        float[] yOut = new float[M * OUT];
        float[] yIn = new float[M * OUT];
        output.forward(base, x, M, yOut);
        input.forward(base, x, M, yIn);
        float[] lo = output.vector().data();
        float[] li = input.vector().data();
        for (int r = 0; r < M; r++) {
            for (int j = 0; j < OUT; j++) {
                double plain = b[j];
                double scaledInput = b[j];
                for (int c = 0; c < IN; c++) {
                    plain += (double) w[j * IN + c] * x[r * IN + c];
                    scaledInput += (double) w[j * IN + c] * li[c] * x[r * IN + c];
                }
                assertEquals(lo[j] * plain, yOut[r * OUT + j], 1e-5, "l ⊙ (W·x + b) at " + r + "," + j);
                assertEquals(scaledInput, yIn[r * OUT + j], 1e-5, "W·(l ⊙ x) + b at " + r + "," + j);
            }
        }
    }

    /** Loss {@code Σ g ⊙ y}: dy = g; the gradients of l and x against central differences. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void gradientsMatchFiniteDifferences(boolean feedforward) {
        SplittableRandom rnd = new SplittableRandom(feedforward ? 11 : 12);
        FrozenLinear base = new FrozenLinear(WeightMatrix.of(random(rnd, OUT * IN, -1, 1), OUT, IN),
                random(rnd, OUT, -1, 1));
        Ia3Layer a = adapter(feedforward, rnd);
        float[] x = random(rnd, M * IN, -1, 1);
        float[] g = random(rnd, M * OUT, -1, 1);
        float[] dx = new float[M * IN];
        a.backward(base, g, x, M, dx);
        Parameter l = a.vector();
        float[] dl = l.grad().clone();
        l.zeroGrad();
        a.backward(base, g, x, M, null);
        for (int i = 0; i < dl.length; i++) {
            assertEquals(dl[i], l.grad()[i], 0f, "dl without an input gradient, entry " + i);
        }
        float eps = 0.1f; // the loss is linear in l and in x: central differences are exact up to rounding
        for (int i = 0; i < l.size(); i++) {
            float saved = l.data()[i];
            l.data()[i] = saved + eps;
            double plus = loss(a, base, x, g);
            l.data()[i] = saved - eps;
            double minus = loss(a, base, x, g);
            l.data()[i] = saved;
            assertEquals((plus - minus) / (2 * eps), dl[i], 2e-4, "dl[" + i + "]");
        }
        for (int i = 0; i < x.length; i++) {
            float saved = x[i];
            x[i] = saved + eps;
            double plus = loss(a, base, x, g);
            x[i] = saved - eps;
            double minus = loss(a, base, x, g);
            x[i] = saved;
            assertEquals((plus - minus) / (2 * eps), dx[i], 2e-4, "dx[" + i + "]");
        }
    }

    private static double loss(Ia3Layer a, FrozenLinear base, float[] x, float[] g) {
        float[] y = new float[M * OUT];
        a.forward(base, x, M, y);
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += (double) g[i] * y[i];
        }
        return s;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void mergedLinearComputesTheAdaptedOutputAndUnmergeRestoresIt(boolean feedforward) {
        SplittableRandom rnd = new SplittableRandom(feedforward ? 21 : 22);
        float[] w = random(rnd, OUT * IN, -1, 1);
        float[] b = random(rnd, OUT, -1, 1);
        float[] x = random(rnd, M * IN, -1, 1);
        Ia3Layer a = adapter(feedforward, rnd);
        float[] adapted = new float[M * OUT];
        a.forward(new FrozenLinear(WeightMatrix.of(w, OUT, IN), b), x, M, adapted);
        float[] mw = w.clone();
        float[] mb = b.clone();
        a.mergeInto(mw, mb);
        float[] merged = new float[M * OUT];
        new FrozenLinear(WeightMatrix.of(mw, OUT, IN), mb).forward(x, M, merged);
        for (int i = 0; i < merged.length; i++) {
            assertEquals(adapted[i], merged[i], 1e-5, "output " + i);
        }
        boolean biasChanged = false;
        for (int j = 0; j < OUT; j++) {
            biasChanged |= mb[j] != b[j];
        }
        assertEquals(!feedforward, biasChanged, "only output scaling scales the bias");
        a.unmergeFrom(mw, mb);
        for (int i = 0; i < w.length; i++) {
            assertEquals(w[i], mw[i], 1e-6, "weight " + i);
        }
        for (int j = 0; j < OUT; j++) {
            assertEquals(b[j], mb[j], 1e-6, "bias " + j);
        }
    }

    @Test
    void shapeMismatchAndZeroScalesAreRefusedByName() {
        Ia3Layer a = Ia3Layer.create("model.layers.0.mlp.down_proj", 64, 176, true);
        var e = assertThrows(IllegalArgumentException.class, () -> a.checkFits("model.layers.0.mlp.down_proj", 64, 64));
        assertTrue(e.getMessage().contains("model.layers.0.mlp.down_proj") && e.getMessage().contains("176")
                && e.getMessage().contains("[64, 64]"), e.getMessage());
        var shape = assertThrows(IllegalArgumentException.class,
                () -> new Ia3Layer(new Parameter("x.ia3_l", new long[] {4, 1}, new float[4]), true));
        assertTrue(shape.getMessage().contains("x.ia3_l") && shape.getMessage().contains("[1, in_features]"),
                shape.getMessage());
        a.vector().data()[3] = 0;
        var zero = assertThrows(IllegalArgumentException.class, () -> a.unmergeFrom(new float[64 * 176], null));
        assertTrue(zero.getMessage().contains("ia3_l[3]"), zero.getMessage());
    }
}
