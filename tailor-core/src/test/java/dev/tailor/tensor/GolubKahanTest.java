package dev.tailor.tensor;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Svd#of} and {@link Svd#top} (Golub–Kahan–Reinsch) against their scalar twin {@link JacobiSvd} and the
 * Gram-matrix oracle {@link SvdOracle}, on awkward, rank-deficient and zero matrices: the singular values, the
 * reconstruction, orthonormality, and the canonical forms LoRA keeps.
 */
class GolubKahanTest {
    /** {rows, cols, rank}: full rank where rank = min(rows, cols), else a product [rows, rank]·[rank, cols]. */
    private static final int[][] CASES = {{1, 1, 1}, {7, 3, 3}, {3, 7, 3}, {17, 64, 17}, {64, 17, 17},
        {64, 176, 64}, {176, 64, 64}, {64, 176, 6}, {30, 30, 29}, {5, 8, 0}};

    private static double[] random(int n, SplittableRandom rnd) {
        double[] m = new double[n];
        for (int i = 0; i < n; i++) {
            m[i] = rnd.nextDouble(-1, 1);
        }
        return m;
    }

    /** A {@code [rows, cols]} matrix of the given rank (zero for rank 0). */
    private static double[] matrix(int rows, int cols, int rank, SplittableRandom rnd) {
        if (rank == Math.min(rows, cols)) {
            return random(rows * cols, rnd);
        }
        double[] b = random(rows * rank, rnd);
        double[] a = random(rank * cols, rnd);
        double[] m = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < rank; k++) {
                for (int j = 0; j < cols; j++) {
                    m[i * cols + j] += b[i * rank + k] * a[k * cols + j];
                }
            }
        }
        return m;
    }

    @Test
    void matchesJacobiOnAwkwardAndRankDeficientMatrices() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int[] c : CASES) {
            int rows = c[0];
            int cols = c[1];
            int rank = c[2];
            String what = rows + "x" + cols + " of rank " + rank;
            double[] m = matrix(rows, cols, rank, rnd);
            Svd gk = Svd.of(m, rows, cols);
            Svd jacobi = JacobiSvd.svd(m, rows, cols);
            double[] gram = SvdOracle.singularValues(m, rows, cols);
            int n = Math.min(rows, cols);
            assertEquals(n, gk.rank(), what);
            double scale = Math.max(jacobi.s()[0], Double.MIN_NORMAL);
            for (int i = 0; i < n; i++) {
                // relative to σᵢ where it is nonzero, to σ₀ for the zero singular values
                double tolerance = 1e-10 * (i < rank ? jacobi.s()[i] : scale);
                assertEquals(jacobi.s()[i], gk.s()[i], tolerance, what + " σ" + i);
                assertEquals(gram[i], gk.s()[i], 1e-9 * scale + (i < rank ? 0 : 1e-7 * scale), what + " σ" + i);
            }
            assertTrue(SvdOracle.frobeniusDistance(m, gk.reconstruct()) <= 1e-13 * scale * (rows + cols), what);
            assertOrthonormal(gk, what);
            for (int r : new int[] {1, Math.min(2, n), Math.min(6, n), n}) {
                assertCanonicalAgree(gk, jacobi, r, what);
            }
        }
    }

    @Test
    void topIsTheTruncationOfTheFullDecomposition() {
        SplittableRandom rnd = new SplittableRandom(12);
        for (int[] c : CASES) {
            int rows = c[0];
            int cols = c[1];
            double[] m = matrix(rows, cols, c[2], rnd);
            Svd full = Svd.of(m, rows, cols);
            for (int k : new int[] {0, 1, Math.min(5, full.rank()), full.rank()}) {
                String what = rows + "x" + cols + " top " + k;
                Svd top = Svd.top(m, rows, cols, k);
                Svd cut = full.truncate(k);
                assertEquals(k, top.rank(), what);
                assertClose(cut.s(), top.s(), 1e-12 * Math.max(full.s()[0], 1), what + " s");
                assertClose(cut.u(), top.u(), 1e-12, what + " U");
                assertClose(cut.vt(), top.vt(), 1e-12, what + " Vᵀ");
            }
        }
    }

    @Test
    void rejectsNonFiniteEntriesAndTooManyTriplets() {
        assertThrows(IllegalArgumentException.class, () -> Svd.of(new double[] {1, Double.NaN}, 1, 2));
        assertThrows(IllegalArgumentException.class,
                () -> Svd.of(new double[] {Double.POSITIVE_INFINITY, 0, 0, 1}, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> Svd.top(new double[6], 2, 3, 3));
    }

    /** {@code UᵀU = VᵀV = I} over all triplets: Golub–Kahan's vectors of zero singular values are unit too. */
    private static void assertOrthonormal(Svd svd, String what) {
        int k = svd.rank();
        for (int p = 0; p < k; p++) {
            for (int q = 0; q < k; q++) {
                double uu = 0;
                for (int i = 0; i < svd.rows(); i++) {
                    uu += svd.u()[i * k + p] * svd.u()[i * k + q];
                }
                double vv = 0;
                for (int j = 0; j < svd.cols(); j++) {
                    vv += svd.vt()[p * svd.cols() + j] * svd.vt()[q * svd.cols() + j];
                }
                assertEquals(p == q ? 1 : 0, uu, 1e-13, "UᵀU " + what);
                assertEquals(p == q ? 1 : 0, vv, 1e-13, "VᵀV " + what);
            }
        }
    }

    /** The canonical first r triplets of both decompositions, at LoRA's float rank tolerance, agree. */
    private static void assertCanonicalAgree(Svd gk, Svd jacobi, int r, String what) {
        double tolerance = Math.max(gk.rows(), gk.cols()) * Svd.FLOAT_RANK_TOLERANCE;
        Svd x = gk.canonical(r, tolerance);
        Svd y = jacobi.canonical(r, tolerance);
        assertClose(y.s(), x.s(), 1e-10 * Math.max(jacobi.s()[0], 1), what + " canonical s, r = " + r);
        assertClose(y.u(), x.u(), 1e-9, what + " canonical U, r = " + r);
        assertClose(y.vt(), x.vt(), 1e-9, what + " canonical Vᵀ, r = " + r);
    }

    private static void assertClose(double[] expected, double[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance, what + " [" + i + "]");
        }
    }
}
