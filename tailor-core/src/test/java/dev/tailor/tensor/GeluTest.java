package dev.tailor.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * erf, erfc and PyTorch's exact GELU against float64 reference values (Python's {@code math.erf} /
 * {@code math.erfc}), and GELU's derivative against central differences.
 */
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
    void erfAndErfcMatchReferenceValues() {
        double[][] erf = {{0, 0}, {0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149},
            {2, 0.9953222650189527}, {2.4, 0.9993114861033550}, {2.6, 0.9997639655834707}, {3.5, 0.9999992569016276},
            {-1.5, -0.9661051464753108}};
        for (double[] v : erf) {
            assertEquals(v[1], Gelu.erf(v[0]), 1e-15, "erf(" + v[0] + ")");
        }
        double[][] erfc = {{3, 2.209049699858544e-05}, {5, 1.5374597944280349e-12}, {10, 2.088487583762545e-45},
            {2.5, 4.069520174449590e-04}, {-3, 1.9999779095030015}, {0.3, 0.6713732405408726}};
        for (double[] v : erfc) {
            assertEquals(v[1], Gelu.erfc(v[0]), 1e-13 * Math.abs(v[1]), "erfc(" + v[0] + ")");
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
