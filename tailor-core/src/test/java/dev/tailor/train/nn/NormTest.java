package dev.tailor.train.nn;

import dev.tailor.tensor.Parameter;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The vectorized, row-parallel RMSNorm against its definition evaluated in double precision, on widths with and
 * without a vector tail and on row counts below and above the parallel split.
 */
class NormTest {

    @ParameterizedTest
    @CsvSource({"1,1", "3,7", "5,17", "40,64", "17,579", "64,576"})
    void forwardAndBackwardMatchTheDefinition(int rows, int d) {
        SplittableRandom rnd = new SplittableRandom(rows * 101L + d);
        float[] x = random(rnd, rows * d, 2);
        float[] dy = random(rnd, rows * d, 1);
        float[] dxStart = random(rnd, rows * d, 1);
        float[] w = random(rnd, d, 1.5);
        Parameter p = new Parameter("norm", new long[] {d}, w.clone());
        float[] gradStart = random(rnd, d, 1);
        System.arraycopy(gradStart, 0, p.grad(), 0, d);
        Norm norm = new Norm(p.data(), p, 1e-5f);

        float[] y = new float[rows * d];
        float[] rstd = new float[rows];
        norm.forward(x, rows, y, rstd);
        float[] dx = dxStart.clone();
        norm.backward(dy, x, rstd, rows, dx);

        double[] dw = new double[d];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            double dot = 0;
            for (int i = 0; i < d; i++) {
                double xi = x[r * d + i];
                ss += xi * xi;
                dot += dy[r * d + i] * (double) w[i] * xi;
            }
            double s = 1 / Math.sqrt(ss / d + 1e-5);
            assertEquals(s, rstd[r], 1e-5 * s, "rstd of row " + r);
            for (int i = 0; i < d; i++) {
                int at = r * d + i;
                double xi = x[at];
                assertEquals(xi * s * w[i], y[at], 1e-5, "y at " + at);
                double g = dxStart[at] + s * dy[at] * w[i] - xi * s * s * s * dot / d;
                assertEquals(g, dx[at], 2e-5 * (1 + Math.abs(g)), "dx at " + at);
                dw[i] += dy[at] * xi * s;
            }
        }
        for (int i = 0; i < d; i++) {
            assertEquals(gradStart[i] + dw[i], p.grad()[i], 1e-4 * (1 + Math.abs(dw[i])), "dw at " + i);
        }
    }

    private static float[] random(SplittableRandom rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-scale, scale);
        }
        return a;
    }
}
