package dev.tailor.adapt.compacter;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** erf and PyTorch's exact GELU against reference values, and GELU's derivative against central differences. */
class GeluTest {

    @Test
    void erfMatchesReferenceValues() {
        // Python's math.erf
        double[][] cases = {{0, 0}, {1e-8, 1.1283791670955126e-8}, {0.1, 0.1124629160182849},
                {0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {-1.5, -0.9661051464753108},
                {2, 0.9953222650189527}, {3, 0.9999779095030014}, {4.5, 0.9999999998033839},
                {5.9, 0.9999999999999999}, {-7, -1}};
        for (double[] c : cases) {
            assertEquals(c[1], Gelu.erf(c[0]), 2e-16 + 1e-15 * Math.abs(c[1]), "erf(" + c[0] + ")");
        }
    }

    @Test
    void geluMatchesTorch() {
        // x/2·(1 + math.erf(x/√2)) in Python: what torch.nn.functional.gelu computes in float64
        double[][] cases = {{0, 0}, {1, 0.8413447460685429}, {-1, -0.15865525393145707},
                {0.5, 0.34573123063700656}, {-3, -0.00404969409489031}, {2.5, 2.4844758366855597},
                {-10, -0.0}};
        for (double[] c : cases) {
            assertEquals(c[1], Gelu.value(c[0]), 1e-15, "gelu(" + c[0] + ")");
        }
    }

    @Test
    void derivativeMatchesCentralDifferences() {
        for (double x = -6; x <= 6; x += 0.37) {
            double h = 1e-5;
            double numeric = (Gelu.value(x + h) - Gelu.value(x - h)) / (2 * h);
            assertEquals(numeric, Gelu.derivative(x), 1e-9, "gelu'(" + x + ")");
        }
    }

    @Test
    void floatKernelsApplyValueAndChainRule() {
        float[] x = {-2f, -0.25f, 0f, 0.75f, 3f};
        float[] y = new float[x.length];
        Gelu.forward(x, y, x.length);
        float[] g = {1f, 2f, -1f, 0.5f, 3f};
        float[] dx = g.clone();
        Gelu.backward(x, dx, x.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals((float) Gelu.value(x[i]), y[i]);
            assertEquals((float) (g[i] * Gelu.derivative(x[i])), dx[i]);
        }
    }
}
