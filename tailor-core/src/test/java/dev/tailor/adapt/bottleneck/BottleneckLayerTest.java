package dev.tailor.adapt.bottleneck;

import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One bottleneck adapter on random inputs: identity at init, forward against a plain loop, gradients. */
class BottleneckLayerTest {
    private static final int HIDDEN = 12;
    private static final int M = 4;

    private static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-1, 1);
        }
        return v;
    }

    /** A fresh adapter with its up-projection and biases moved away from zero. */
    private static BottleneckLayer trained(NonLinearity f, SplittableRandom rnd) {
        BottleneckLayer a = BottleneckLayer.create("model.layers.0.mlp", HIDDEN, 3, f, rnd);
        for (Parameter p : a.parameters()) {
            for (int i = 0; i < p.size(); i++) {
                p.data()[i] += (float) rnd.nextDouble(-0.5, 0.5);
            }
        }
        return a;
    }

    @Test
    void freshAdapterIsExactlyTheIdentityAndNamedAsDocumented() {
        BottleneckLayer a = BottleneckLayer.create("model.layers.3.self_attn", HIDDEN, 3, NonLinearity.SWISH,
                new SplittableRandom(1));
        assertEquals(java.util.List.of("model.layers.3.self_attn.adapter_down.weight",
                "model.layers.3.self_attn.adapter_down.bias", "model.layers.3.self_attn.adapter_up.weight",
                "model.layers.3.self_attn.adapter_up.bias"), a.parameters().stream().map(Parameter::name).toList());
        float[] down = a.parameters().get(0).data();
        double bound = 1 / Math.sqrt(HIDDEN);
        boolean nonZero = false;
        for (float v : down) {
            assertTrue(Math.abs(v) <= bound, "Kaiming-uniform bound " + bound + ": " + v);
            nonZero |= v != 0;
        }
        assertTrue(nonZero);
        for (int i = 1; i < 4; i++) {
            for (float v : a.parameters().get(i).data()) {
                assertEquals(0f, v, a.parameters().get(i).name());
            }
        }
        float[] h = random(new SplittableRandom(2), M * HIDDEN);
        float[] out = new float[h.length];
        a.forward(h, M, out);
        assertArrayEquals(h, out);
    }

    @ParameterizedTest
    @EnumSource(NonLinearity.class)
    void forwardIsHPlusUpOfFOfDown(NonLinearity f) {
        SplittableRandom rnd = new SplittableRandom(f.ordinal());
        BottleneckLayer a = trained(f, rnd);
        float[] h = random(rnd, M * HIDDEN);
        float[] out = new float[h.length];
        a.forward(h, M, out);
        float[] dw = a.parameters().get(0).data();
        float[] db = a.parameters().get(1).data();
        float[] uw = a.parameters().get(2).data();
        float[] ub = a.parameters().get(3).data();
        for (int r = 0; r < M; r++) {
            double[] act = new double[3];
            for (int k = 0; k < 3; k++) {
                double z = db[k];
                for (int c = 0; c < HIDDEN; c++) {
                    z += (double) dw[k * HIDDEN + c] * h[r * HIDDEN + c];
                }
                act[k] = f.apply(z);
            }
            for (int j = 0; j < HIDDEN; j++) {
                double y = h[r * HIDDEN + j] + ub[j];
                for (int k = 0; k < 3; k++) {
                    y += uw[j * 3 + k] * act[k];
                }
                assertEquals(y, out[r * HIDDEN + j], 1e-5, f + " out[" + r + ", " + j + "]");
            }
        }
    }

    /** Loss {@code Σ g ⊙ out}: each parameter's and the input's gradient against central differences. */
    @ParameterizedTest
    @EnumSource(NonLinearity.class)
    void gradientsMatchFiniteDifferences(NonLinearity f) {
        SplittableRandom rnd = new SplittableRandom(10 + f.ordinal());
        BottleneckLayer a = trained(f, rnd);
        float[] h = random(rnd, M * HIDDEN);
        float[] g = random(rnd, M * HIDDEN);
        float[] dh = new float[h.length];
        a.backward(g, h, M, dh);
        float eps = 1e-3f;
        for (Parameter p : a.parameters()) {
            for (int i = 0; i < p.size(); i++) {
                float saved = p.data()[i];
                p.data()[i] = saved + eps;
                double plus = loss(a, h, g);
                p.data()[i] = saved - eps;
                double minus = loss(a, h, g);
                p.data()[i] = saved;
                double numeric = (plus - minus) / (2 * eps);
                assertEquals(numeric, p.grad()[i], 2e-3 + 1e-2 * Math.abs(numeric), f + " " + p.name() + "[" + i + "]");
            }
        }
        for (int i = 0; i < h.length; i++) {
            float saved = h[i];
            h[i] = saved + eps;
            double plus = loss(a, h, g);
            h[i] = saved - eps;
            double minus = loss(a, h, g);
            h[i] = saved;
            double numeric = (plus - minus) / (2 * eps);
            assertEquals(numeric, dh[i], 2e-3 + 1e-2 * Math.abs(numeric), f + " dh[" + i + "]");
        }
    }

    private static double loss(BottleneckLayer a, float[] h, float[] g) {
        float[] out = new float[h.length];
        a.forward(h, M, out);
        double s = 0;
        for (int i = 0; i < out.length; i++) {
            s += (double) g[i] * out[i];
        }
        return s;
    }

    @Test
    void anAdapterForAnotherHiddenSizeNamesTheSite() {
        BottleneckLayer a = BottleneckLayer.create("model.layers.0.mlp", 32, 2, NonLinearity.RELU,
                new SplittableRandom(1));
        var e = assertThrows(IllegalArgumentException.class, () -> a.checkFits("model.layers.0.mlp", 64));
        assertTrue(e.getMessage().contains("model.layers.0.mlp") && e.getMessage().contains("32")
                && e.getMessage().contains("64"), e.getMessage());
    }
}
