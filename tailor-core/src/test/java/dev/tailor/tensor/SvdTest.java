package dev.tailor.tensor;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Svd} against a naive Jacobi-eigenvalue oracle (a differential test: the oracle squares the matrix, Svd does
 * not), on awkward and rank-deficient shapes, and the Eckart–Young truncation error.
 */
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
    void svdMatchesTheOracleReconstructsAndIsOrthonormal() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int[] shape : SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            double[] m = random(rows * cols, rnd);
            Svd svd = Svd.of(m, rows, cols);
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
                Svd t = Svd.of(m, rows, cols).truncate(k);
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
    void svdIsExactOnLargerAndRankDeficientMatrices() {
        SplittableRandom rnd = new SplittableRandom(4);
        // {rows, cols, rank}: full rank, then products of [rows, rank]·[rank, cols] (rank deficient)
        int[][] cases = {{17, 64, 17}, {64, 17, 17}, {64, 176, 64}, {176, 64, 64}, {64, 176, 6}, {7, 3, 1},
            {30, 30, 29}};
        for (int[] c : cases) {
            int rows = c[0];
            int cols = c[1];
            int inner = c[2];
            String what = rows + "x" + cols + " of rank " + inner;
            double[] m = inner == Math.min(rows, cols) ? random(rows * cols, rnd)
                    : product(random(rows * inner, rnd), random(inner * cols, rnd), rows, inner, cols);
            double[] oracle = SvdOracle.singularValues(m, rows, cols);
            Svd svd = Svd.of(m, rows, cols);
            assertEquals(Math.min(rows, cols), svd.rank(), what);
            for (int i = 0; i < inner; i++) {
                assertEquals(oracle[i], svd.s()[i], 1e-9 * oracle[0], what + " σ" + i);
            }
            for (int i = inner; i < svd.rank(); i++) {
                assertTrue(svd.s()[i] < 1e-12 * oracle[0], what + " σ" + i + " = " + svd.s()[i] + " is zero");
            }
            assertTrue(SvdOracle.frobeniusDistance(m, svd.reconstruct()) < 1e-12 * oracle[0] * rows, what);
            for (int p = 0; p < inner; p++) {
                for (int q = 0; q < inner; q++) {
                    double uu = 0;
                    for (int i = 0; i < rows; i++) {
                        uu += svd.u()[i * svd.rank() + p] * svd.u()[i * svd.rank() + q];
                    }
                    double vv = 0;
                    for (int j = 0; j < cols; j++) {
                        vv += svd.vt()[p * cols + j] * svd.vt()[q * cols + j];
                    }
                    assertEquals(p == q ? 1 : 0, uu, 1e-10, "UᵀU " + what);
                    assertEquals(p == q ? 1 : 0, vv, 1e-10, "VᵀV " + what);
                }
            }
            for (int k : new int[] {1, 4, 16, 22}) {
                if (k <= inner) {
                    Svd t = svd.truncate(k);
                    assertEquals(SvdOracle.tail(oracle, k), SvdOracle.frobeniusDistance(m, t.reconstruct()),
                            1e-6 * oracle[0], what + " truncated to " + k);
                }
            }
        }
    }

    @Test
    void canonicalFormCompletesAZeroMatrixWithTheAxes() {
        Svd zero = Svd.of(new double[3 * 5], 3, 5).canonical(3, 0x1p-23);
        assertEquals(3, zero.rank());
        for (int k = 0; k < 3; k++) {
            assertEquals(0, zero.s()[k]);
            for (int i = 0; i < 3; i++) {
                assertEquals(i == k ? 1 : 0, zero.u()[i * 3 + k], "U is the identity");
            }
            for (int j = 0; j < 5; j++) {
                assertEquals(j == k ? 1 : 0, zero.vt()[k * 5 + j], "Vᵀ is the first rows of the identity");
            }
        }
    }
}
