package dev.tailor.adapt.lora;

import dev.tailor.model.site.FrozenLinear;
import dev.tailor.model.site.LinearHook;
import dev.tailor.model.site.TrainingPass;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DoRA at one linear against a float64 reference of PEFT's formula: forward, and the gradients of A, B, the
 * magnitude and the input against central differences with the norm held constant (PEFT detaches it), with and
 * without dropout; merge and unmerge.
 */
class DoraLayerTest {
    private static final int OUT = 16;
    private static final int IN = 24;
    private static final int R = 3;
    private static final int M = 12;
    private static final float SCALE = 2f / R;

    private final SplittableRandom rnd = new SplittableRandom(11);
    private final float[] w0 = random(OUT * IN, 0.5);
    private final float[] b0 = random(OUT, 0.5);
    private final FrozenLinear inner = new FrozenLinear(WeightMatrix.of(w0, OUT, IN), b0);
    private final Parameter a = new Parameter("base_model.model.m.lora_A.weight", new long[] {R, IN}, random(R * IN, 0.5));
    private final Parameter b = new Parameter("base_model.model.m.lora_B.weight", new long[] {OUT, R}, random(OUT * R, 0.5));
    private final float[] x = random(M * IN, 1);
    private final float[] w = random(M * OUT, 1);

    @ParameterizedTest
    @ValueSource(doubles = {0, 0.3})
    void gradientsMatchCentralDifferencesWithTheNormDetached(double p) {
        LoraLayer lora = new LoraLayer(a, b, SCALE, p);
        Parameter mag = new Parameter("m.lora_magnitude_vector", new long[] {OUT}, random(OUT, 1));
        for (int j = 0; j < OUT; j++) {
            mag.data()[j] += 1.5f;
        }
        DoraLayer dora = new DoraLayer(lora, mag);
        TrainingPass pass = new TrainingPass(5);
        float[] keep = p == 0 ? null : LoraDropout.apply(ones(M * IN), M, IN, p, a.name().hashCode(), 5);

        float[] y = new float[M * OUT];
        LinearHook.Saved forwardSaved = dora.forward(inner, x, M, y, pass);
        double[] ref = reference(mag.data(), keep, null);
        for (int i = 0; i < y.length; i++) {
            assertEquals(ref[i], y[i], 1e-5, "y[" + i + "]");
        }
        float[] dx = new float[M * IN];
        dora.backward(inner, w, x, M, dx, pass, forwardSaved);

        double[] frozen = norms(a.data(), b.data());
        check("lora_A", a.grad(), a.data(), mag.data(), keep, frozen);
        check("lora_B", b.grad(), b.data(), mag.data(), keep, frozen);
        check("magnitude", mag.grad(), mag.data(), mag.data(), keep, frozen);
        check("dx", dx, x, mag.data(), keep, frozen);

        // with the norm live, the difference quotient of A is not the detached gradient: the check above can fail
        double eps = 1e-3;
        float saved = a.data()[2];
        a.data()[2] = saved + (float) eps;
        double plus = loss(reference(mag.data(), keep, null));
        a.data()[2] = saved - (float) eps;
        double minus = loss(reference(mag.data(), keep, null));
        a.data()[2] = saved;
        assertTrue(Math.abs((plus - minus) / (2 * eps) - a.grad()[2]) > 1e-3, "the norm's dependence is visible");
    }

    @Test
    void dropoutMasksDependOnThePassAlone() {
        LoraLayer lora = new LoraLayer(a, b, SCALE, 0.5);
        DoraLayer dora = new DoraLayer(lora, new Parameter("m", new long[] {OUT}, ones(OUT)));
        float[] first = new float[M * OUT];
        float[] again = new float[M * OUT];
        float[] other = new float[M * OUT];
        dora.forward(inner, x, M, first, new TrainingPass(3));
        dora.forward(inner, x, M, again, new TrainingPass(3));
        dora.forward(inner, x, M, other, new TrainingPass(4));
        assertArrayEquals(first, again);
        assertFalse(Arrays.equals(first, other));
        float[] kept = LoraDropout.apply(ones(1000), 10, 100, 0.5, 1, 3);
        long zeros = 0;
        for (float v : kept) {
            assertTrue(v == 0f || v == 2f, "kept values scale by 1/(1-p): " + v);
            zeros += v == 0f ? 1 : 0;
        }
        assertTrue(zeros > 430 && zeros < 570, "about half dropped: " + zeros);
    }

    @Test
    void freshDoraIsTheIdentityAndMergeUnmergeInvert() {
        LoraLayer lora = LoraLayer.create("m", OUT, IN, R, 4, false, new SplittableRandom(3));
        DoraLayer dora = DoraLayer.create("m", lora, WeightMatrix.of(w0, OUT, IN));
        assertEquals("base_model.model.m.lora_magnitude_vector", dora.magnitude().name());
        float[] base = new float[M * OUT];
        inner.forward(x, M, base);
        float[] adapted = new float[M * OUT];
        dora.forward(inner, x, M, adapted);
        assertArrayEquals(base, adapted, "m = ‖W0‖ and B = 0: the identity");

        Parameter[] pair = lora.parameters().toArray(Parameter[]::new);
        TinyRandomLlama.perturb(java.util.List.of(pair[0], pair[1], dora.magnitude()), 0.3, 9);
        dora.forward(inner, x, M, adapted);
        float[] merged = w0.clone();
        float[] bias = b0.clone();
        dora.mergeInto(merged, bias);
        assertArrayEquals(b0, bias, "DoRA leaves the bias alone");
        float[] fromMerged = new float[M * OUT];
        new FrozenLinear(WeightMatrix.of(merged, OUT, IN), bias).forward(x, M, fromMerged);
        assertTrue(TinyRandomLlama.maxDiff(adapted, fromMerged) < 2e-5, "merged vs adapted");
        dora.unmergeFrom(merged, bias);
        assertTrue(TinyRandomLlama.maxDiff(w0, merged) < 1e-6, "unmerge restores W0");
        assertThrows(IllegalStateException.class, () -> dora.unmergeFrom(merged, bias));
    }

    /** Compares an analytic gradient with central differences of the reference loss (norm frozen). */
    private void check(String what, float[] grad, float[] values, float[] mag, float[] keep, double[] frozen) {
        double eps = 1e-3;
        for (int i = 0; i < values.length; i++) {
            float saved = values[i];
            float up = (float) (saved + eps);
            float down = (float) (saved - eps);
            values[i] = up;
            double plus = loss(reference(mag, keep, frozen));
            values[i] = down;
            double minus = loss(reference(mag, keep, frozen));
            values[i] = saved;
            double fd = (plus - minus) / ((double) up - down);
            assertEquals(fd, grad[i], 2e-4 * Math.max(1, Math.abs(fd)), what + "[" + i + "]");
        }
    }

    private double loss(double[] y) {
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += w[i] * y[i];
        }
        return sum;
    }

    /** PEFT's DoRA output in float64; {@code keep} is the scaled dropout mask or null, {@code frozen} fixed norms. */
    private double[] reference(float[] mag, float[] keep, double[] frozen) {
        double[] n = frozen != null ? frozen : norms(a.data(), b.data());
        double[] y = new double[M * OUT];
        for (int i = 0; i < M; i++) {
            double[] xd = new double[IN];
            for (int c = 0; c < IN; c++) {
                xd[c] = x[i * IN + c] * (keep == null ? 1 : keep[i * IN + c]);
            }
            double[] h = new double[R];
            for (int k = 0; k < R; k++) {
                for (int c = 0; c < IN; c++) {
                    h[k] += a.data()[k * IN + c] * xd[c];
                }
            }
            for (int j = 0; j < OUT; j++) {
                double wx = 0;
                double wxd = 0;
                for (int c = 0; c < IN; c++) {
                    wx += w0[j * IN + c] * (double) x[i * IN + c];
                    wxd += w0[j * IN + c] * xd[c];
                }
                double l = 0;
                for (int k = 0; k < R; k++) {
                    l += b.data()[j * R + k] * h[k];
                }
                double g = mag[j] / n[j];
                double z = keep == null ? wx : wxd;
                y[i * OUT + j] = wx + b0[j] + (g - 1) * z + g * SCALE * l;
            }
        }
        return y;
    }

    private double[] norms(float[] av, float[] bv) {
        double[] n = new double[OUT];
        for (int j = 0; j < OUT; j++) {
            double sum = 0;
            for (int c = 0; c < IN; c++) {
                double v = w0[j * IN + c];
                for (int k = 0; k < R; k++) {
                    v += SCALE * (double) bv[j * R + k] * av[k * IN + c];
                }
                sum += v * v;
            }
            n[j] = Math.sqrt(sum);
        }
        return n;
    }

    private float[] random(int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-scale, scale);
        }
        return v;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }
}
