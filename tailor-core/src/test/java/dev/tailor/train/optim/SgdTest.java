package dev.tailor.train.optim;

import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SgdTest {
    private static final float[] P0 = {1.0f, -2.0f, 0.25f};
    private static final float[][] GRADS = {{0.5f, -1.0f, 0.0f}, {0.25f, 0.5f, -2.0f}, {-1.0f, 0.0f, 1.5f}};

    /** torch.optim.SGD's documented algorithm (dampening 0), step by step in double. */
    private static double[] reference(double lr, double mu, boolean nesterov, double wd) {
        double[] p = new double[P0.length];
        double[] b = new double[P0.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = P0[i];
        }
        for (int t = 0; t < GRADS.length; t++) {
            for (int i = 0; i < p.length; i++) {
                double d = GRADS[t][i] + wd * p[i];
                if (mu != 0) {
                    b[i] = t == 0 ? d : mu * b[i] + d;
                    d = nesterov ? d + mu * b[i] : b[i];
                }
                p[i] = p[i] - lr * d;
            }
        }
        return p;
    }

    private static float[] run(Sgd.Config config, double lr) {
        Parameter p = new Parameter("w", new long[]{P0.length}, P0.clone());
        Sgd sgd = new Sgd(config);
        for (float[] g : GRADS) {
            System.arraycopy(g, 0, p.grad(), 0, g.length);
            sgd.step(List.of(p), lr);
        }
        assertArrayEquals(GRADS[GRADS.length - 1], p.grad(), "SGD must not modify the gradient");
        return p.data();
    }

    private static void assertClose(double[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6 * Math.abs(expected[i]) + 1e-7, "element " + i);
        }
    }

    @Test
    void momentumMatchesTheFormulas() {
        assertClose(reference(0.1, 0.9, false, 0), run(new Sgd.Config(0.9, false, 0), 0.1));
        // by hand, element 0: b = 0.5, 0.9·0.5 + 0.25 = 0.7, 0.9·0.7 − 1 = −0.37; p = 1 − 0.1·(0.5 + 0.7 − 0.37)
        assertEquals(0.917, run(new Sgd.Config(0.9, false, 0), 0.1)[0], 1e-6);
    }

    @Test
    void nesterovWithCoupledWeightDecayMatchesTheFormulas() {
        assertClose(reference(0.05, 0.8, true, 0.01), run(new Sgd.Config(0.8, true, 0.01), 0.05));
    }

    @Test
    void plainSgdIsGradientDescent() {
        float[] p = run(new Sgd.Config(0, false, 0), 0.5);
        assertEquals(1.0f - 0.5f * (0.5f + 0.25f - 1.0f), p[0]);
        assertEquals(-2.0f - 0.5f * (-1.0f + 0.5f), p[1]);
    }

    @Test
    void savedMomentumResumesExactly() {
        Sgd.Config config = new Sgd.Config(0.9, true, 0.1);
        Parameter a = new Parameter("w", new long[]{3}, P0.clone());
        Sgd straight = new Sgd(config);
        for (float[] g : GRADS) {
            System.arraycopy(g, 0, a.grad(), 0, 3);
            straight.step(List.of(a), 0.1);
        }
        Parameter b = new Parameter("w", new long[]{3}, P0.clone());
        Sgd first = new Sgd(config);
        System.arraycopy(GRADS[0], 0, b.grad(), 0, 3);
        first.step(List.of(b), 0.1);
        Sgd second = new Sgd(config);
        second.load(first.state());
        for (int t = 1; t < GRADS.length; t++) {
            System.arraycopy(GRADS[t], 0, b.grad(), 0, 3);
            second.step(List.of(b), 0.1);
        }
        assertArrayEquals(a.data(), b.data());
        assertEquals(3, second.steps());
    }

    @Test
    void nesterovNeedsMomentum() {
        assertThrows(IllegalArgumentException.class, () -> new Sgd.Config(0, true, 0));
    }
}
