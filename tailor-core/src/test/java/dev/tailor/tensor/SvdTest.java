package dev.tailor.tensor;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Svd} against a naive Jacobi-eigenvalue oracle, on awkward shapes, and the Eckart–Young truncation error. */
class SvdTest {
    private static final int[][] SHAPES = {{1, 1}, {1, 7}, {7, 1}, {7, 3}, {3, 7}, {17, 5}, {5, 17}, {12, 12},
        {23, 19}};

    private static double[] random(int n, SplittableRandom rnd) {
        double[] m = new double[n];
        for (int i = 0; i < n; i++) {
            m[i] = rnd.nextDouble(-1, 1);
        }
        return m;
    }

    private static double[] product(double[] b, double[] a, int rows, int inner, int cols) {
        double[] m = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < inner; k++) {
                for (int j = 0; j < cols; j++) {
                    m[i * cols + j] += b[i * inner + k] * a[k * cols + j];
                }
            }
        }
        return m;
    }

    @Test
    void jacobiMatchesTheOracleReconstructsAndIsOrthonormal() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int[] shape : SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            double[] m = random(rows * cols, rnd);
            Svd svd = Svd.jacobi(m, rows, cols);
            double[] oracle = SvdOracle.singularValues(m, rows, cols);
            assertEquals(Math.min(rows, cols), svd.rank());
            for (int i = 0; i < oracle.length; i++) {
                assertEquals(oracle[i], svd.s()[i], 1e-9 * oracle[0], rows + "x" + cols + " σ" + i);
            }
            assertTrue(SvdOracle.frobeniusDistance(m, svd.reconstruct()) < 1e-12 * rows * cols, rows + "x" + cols);
            int k = svd.rank();
            for (int p = 0; p < k; p++) {
                for (int q = 0; q < k; q++) {
                    double uu = 0;
                    for (int i = 0; i < rows; i++) {
                        uu += svd.u()[i * k + p] * svd.u()[i * k + q];
                    }
                    double vv = 0;
                    for (int j = 0; j < cols; j++) {
                        vv += svd.vt()[p * cols + j] * svd.vt()[q * cols + j];
                    }
                    assertEquals(p == q ? 1 : 0, uu, 1e-12, "UᵀU " + rows + "x" + cols);
                    assertEquals(p == q ? 1 : 0, vv, 1e-12, "VᵀV " + rows + "x" + cols);
                }
            }
        }
    }

    @Test
    void truncationErrorIsTheTailOfTheSingularValues() {
        SplittableRandom rnd = new SplittableRandom(2);
        for (int[] shape : SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            double[] m = random(rows * cols, rnd);
            double[] oracle = SvdOracle.singularValues(m, rows, cols);
            for (int k = 1; k <= oracle.length; k++) {
                Svd t = Svd.jacobi(m, rows, cols).truncate(k);
                assertEquals(SvdOracle.tail(oracle, k), SvdOracle.frobeniusDistance(m, t.reconstruct()),
                        1e-9 * oracle[0], rows + "x" + cols + " rank " + k);
            }
        }
    }

    @Test
    void productOfLowRankFactorsIsExact() {
        SplittableRandom rnd = new SplittableRandom(3);
        int[][] cases = {{16, 6, 24}, {24, 6, 16}, {9, 1, 4}, {30, 8, 5}};
        for (int[] c : cases) {
            int rows = c[0];
            int inner = c[1];
            int cols = c[2];
            double[] b = random(rows * inner, rnd);
            double[] a = random(inner * cols, rnd);
            double[] m = product(b, a, rows, inner, cols);
            double[] oracle = SvdOracle.singularValues(m, rows, cols);
            int full = Math.min(inner, Math.min(rows, cols));
            Svd exact = Svd.ofProduct(b, a, rows, inner, cols, full);
            assertTrue(SvdOracle.frobeniusDistance(m, exact.reconstruct()) < 1e-10, "rank-" + full + " reproduced");
            for (int k = 1; k <= full; k++) {
                Svd t = Svd.ofProduct(b, a, rows, inner, cols, k);
                assertEquals(oracle[k - 1], t.s()[k - 1], 1e-9 * oracle[0]);
                // the oracle squares the matrix, so its zero singular values come out near sqrt(ε)·σ₀
                assertEquals(SvdOracle.tail(oracle, k), SvdOracle.frobeniusDistance(m, t.reconstruct()),
                        1e-6 * oracle[0], rows + "x" + cols + " inner " + inner + " rank " + k);
            }
        }
        // a dependent factor column: B·A has rank 2 though the inner dimension is 3
        double[] b = {1, 2, 3, 4, 5, 9, 0, 1, 1, 2, 2, 4};
        double[] a = random(3 * 5, rnd);
        Svd s = Svd.ofProduct(b, a, 4, 3, 5, 3);
        assertEquals(0, s.s()[2], 1e-12);
        assertTrue(SvdOracle.frobeniusDistance(product(b, a, 4, 3, 5), s.reconstruct()) < 1e-12);
    }

    @Test
    void randomizedTruncationIsNearOptimalOnALargerMatrix() {
        SplittableRandom rnd = new SplittableRandom(4);
        int rows = 90;
        int cols = 70;
        int inner = 30;
        double[] b = random(rows * inner, rnd);
        double[] a = random(inner * cols, rnd);
        for (int k = 0; k < inner; k++) {
            double decay = Math.pow(0.6, k);
            for (int i = 0; i < rows; i++) {
                b[i * inner + k] *= decay;
            }
        }
        double[] m = product(b, a, rows, inner, cols);
        float[] f = new float[m.length];
        for (int i = 0; i < m.length; i++) {
            f[i] = (float) m[i];
            m[i] = f[i];
        }
        double[] oracle = SvdOracle.singularValues(m, rows, cols);
        for (int k : new int[] {1, 4, 8}) {
            Svd t = Svd.truncated(f, rows, cols, k, 11);
            assertEquals(k, t.rank());
            double error = SvdOracle.frobeniusDistance(m, t.reconstruct());
            double best = SvdOracle.tail(oracle, k);
            assertTrue(error >= best * (1 - 1e-9), "no rank-" + k + " matrix beats Eckart–Young");
            assertTrue(error <= best * 1.001, "rank " + k + ": error " + error + " vs optimal " + best);
            for (int i = 0; i < k; i++) {
                assertEquals(oracle[i], t.s()[i], 1e-4 * oracle[i], "σ" + i);
            }
        }
    }
}
