package dev.tailor.tensor;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A truncated singular value decomposition {@code M ≈ U·diag(s)·Vᵀ} of a {@code [rows, cols]} matrix, the
 * singular values descending; what the {@code svd} combination of LoRA adapters keeps of a combined ΔW.
 *
 * <p>Three ways in, all ending in a one-sided Jacobi (Hestenes) SVD of a matrix with few columns, so no
 * {@code [in, in]} or {@code [out, out]} Gram matrix is ever formed:
 * <ul>
 *   <li>{@link #ofProduct}: {@code M = B·A} with a small inner dimension R (a sum of LoRA pairs). QR of B and of
 *       Aᵀ gives {@code M = Q_B·(R_B·R_Aᵀ)·Q_Aᵀ}; the SVD of the {@code [R, R]} core is exact, and costs
 *       {@code O((rows + cols)·R²)}.</li>
 *   <li>{@link #truncated} of a dense matrix: exact ({@link #jacobi}) when the smaller side is at most the rank plus
 *       the oversampling; otherwise the randomized range finder of Halko, Martinsson and Tropp (2011, Alg. 4.4):
 *       {@code Y = M·Ω} with {@link #OVERSAMPLE} extra Gaussian columns, {@link #POWER_ITERATIONS} power
 *       iterations re-orthonormalised each time, then the exact SVD of the small {@code Qᵀ·M}.</li>
 *   <li>{@link #jacobi}: the exact thin SVD, {@code O(rows·cols·min(rows, cols))} per sweep.</li>
 * </ul>
 *
 * @param rows rows of M
 * @param cols columns of M
 * @param rank number of singular triplets kept
 * @param u    left singular vectors {@code [rows, rank]}, row-major
 * @param s    singular values {@code [rank]}, descending
 * @param vt   right singular vectors transposed {@code [rank, cols]}, row-major
 */
public record Svd(int rows, int cols, int rank, double[] u, double[] s, double[] vt) {
    /** Extra random directions of the range finder beyond the rank kept. */
    public static final int OVERSAMPLE = 10;
    /** Power iterations of the range finder (each one pass with M and one with Mᵀ). */
    public static final int POWER_ITERATIONS = 3;

    private static final double TOLERANCE = 1e-15;
    private static final int MAX_SWEEPS = 80;

    /** The product {@code U·diag(s)} {@code [rows, rank]}, row-major: LoRA's B when Vᵀ is its A. */
    public double[] us() {
        double[] out = new double[rows * rank];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < rank; k++) {
                out[i * rank + k] = u[i * rank + k] * s[k];
            }
        }
        return out;
    }

    /** {@code U·diag(s)·Vᵀ} {@code [rows, cols]}, row-major. */
    public double[] reconstruct() {
        double[] us = us();
        double[] out = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < rank; k++) {
                double f = us[i * rank + k];
                if (f != 0) {
                    for (int j = 0; j < cols; j++) {
                        out[i * cols + j] += f * vt[k * cols + j];
                    }
                }
            }
        }
        return out;
    }

    /** The first {@code k} triplets (at most {@link #rank}). */
    public Svd truncate(int k) {
        int keep = Math.min(k, rank);
        double[] uk = new double[rows * keep];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(u, i * rank, uk, i * keep, keep);
        }
        return new Svd(rows, cols, keep, uk, Arrays.copyOf(s, keep), Arrays.copyOf(vt, keep * cols));
    }

    /**
     * The SVD of {@code M = B·A}, exact up to rounding, truncated to {@code rank}.
     *
     * @param b {@code [rows, inner]} row-major
     * @param a {@code [inner, cols]} row-major
     */
    public static Svd ofProduct(double[] b, double[] a, int rows, int inner, int cols, int rank) {
        double[][] qb = columns(b, rows, inner);
        double[] rb = orthonormalize(qb);
        double[][] qa = rowsOf(a, inner, cols);
        double[] ra = orthonormalize(qa);
        // core = R_B · R_Aᵀ [inner, inner]
        double[] core = new double[inner * inner];
        for (int i = 0; i < inner; i++) {
            for (int j = 0; j < inner; j++) {
                double sum = 0;
                for (int k = 0; k < inner; k++) {
                    sum += rb[i * inner + k] * ra[j * inner + k];
                }
                core[i * inner + j] = sum;
            }
        }
        Svd small = jacobi(core, inner, inner).truncate(rank);
        int k = small.rank;
        double[] u = new double[rows * k];
        double[] vt = new double[k * cols];
        for (int j = 0; j < inner; j++) {
            for (int c = 0; c < k; c++) {
                double fu = small.u[j * k + c];
                double fv = small.vt[c * inner + j];
                for (int i = 0; i < rows; i++) {
                    u[i * k + c] += qb[j][i] * fu;
                }
                for (int i = 0; i < cols; i++) {
                    vt[c * cols + i] += qa[j][i] * fv;
                }
            }
        }
        return new Svd(rows, cols, k, u, small.s, vt);
    }

    /**
     * The leading {@code rank} triplets of a dense {@code m [rows, cols]} (row-major): exact for small matrices,
     * randomized (seeded) for large ones, as the class comment says.
     */
    public static Svd truncated(float[] m, int rows, int cols, int rank, long seed) {
        int l = Math.min(rank + OVERSAMPLE, Math.min(rows, cols));
        if (l == Math.min(rows, cols)) {
            double[] d = new double[m.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = m[i];
            }
            return jacobi(d, rows, cols).truncate(rank);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        // Ω as l columns of length cols; Y = M·Ω as l columns of length rows
        double[][] omega = new double[l][cols];
        for (double[] col : omega) {
            for (int i = 0; i < cols; i++) {
                col[i] = gaussian(rnd);
            }
        }
        double[][] q = times(m, rows, cols, omega);
        orthonormalize(q);
        for (int it = 0; it < POWER_ITERATIONS; it++) {
            double[][] z = transposeTimes(m, rows, cols, q);
            orthonormalize(z);
            q = times(m, rows, cols, z);
            orthonormalize(q);
        }
        // small = Qᵀ·M [l, cols]; its SVD through the Jacobi SVD of smallᵀ [cols, l] = U'·S·V'ᵀ
        double[][] smallT = transposeTimes(m, rows, cols, q);
        double[] flat = new double[cols * l];
        for (int j = 0; j < l; j++) {
            for (int i = 0; i < cols; i++) {
                flat[i * l + j] = smallT[j][i];
            }
        }
        Svd t = jacobi(flat, cols, l).truncate(rank);
        int k = t.rank;
        // M ≈ Q·V'·S·U'ᵀ: U = Q·V', Vᵀ = U'ᵀ
        double[] u = new double[rows * k];
        for (int j = 0; j < l; j++) {
            for (int c = 0; c < k; c++) {
                double f = t.vt[c * l + j];
                for (int i = 0; i < rows; i++) {
                    u[i * k + c] += q[j][i] * f;
                }
            }
        }
        double[] vt = new double[k * cols];
        for (int i = 0; i < cols; i++) {
            for (int c = 0; c < k; c++) {
                vt[c * cols + i] = t.u[i * k + c];
            }
        }
        return new Svd(rows, cols, k, u, t.s, vt);
    }

    /**
     * The exact thin SVD of {@code m [rows, cols]} (row-major) by one-sided Jacobi rotations on the columns of m (or
     * of mᵀ, whichever has fewer), {@code min(rows, cols)} triplets. Singular vectors of zero singular values are
     * zero.
     */
    public static Svd jacobi(double[] m, int rows, int cols) {
        if (rows < cols) {
            double[] t = new double[m.length];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    t[j * rows + i] = m[i * cols + j];
                }
            }
            Svd s = jacobi(t, cols, rows);
            return new Svd(rows, cols, s.rank, transpose(s.vt, s.rank, rows), s.s, transpose(s.u, cols, s.rank));
        }
        int n = cols;
        double[][] g = columns(m, rows, cols);
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    double alpha = dot(g[p], g[p]);
                    double beta = dot(g[q], g[q]);
                    double gamma = dot(g[p], g[q]);
                    if (gamma == 0 || Math.abs(gamma) <= TOLERANCE * Math.sqrt(alpha * beta)) {
                        continue;
                    }
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    if (zeta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(1 + t * t);
                    rotate(g[p], g[q], c, c * t);
                    rotate(v[p], v[q], c, c * t);
                }
            }
            if (!rotated) {
                break;
            }
        }
        double[] norms = new double[n];
        Integer[] order = new Integer[n];
        for (int j = 0; j < n; j++) {
            norms[j] = Math.sqrt(dot(g[j], g[j]));
            order[j] = j;
        }
        Arrays.sort(order, (x, y) -> Double.compare(norms[y], norms[x]));
        double[] u = new double[rows * n];
        double[] s = new double[n];
        double[] vt = new double[n * n];
        for (int k = 0; k < n; k++) {
            int j = order[k];
            s[k] = norms[j];
            if (s[k] > 0) {
                for (int i = 0; i < rows; i++) {
                    u[i * n + k] = g[j][i] / s[k];
                }
                System.arraycopy(v[j], 0, vt, k * n, n);
            }
        }
        return new Svd(rows, cols, n, u, s, vt);
    }

    /** {@code x, y ← c·x − s·y, s·x + c·y}. */
    private static void rotate(double[] x, double[] y, double c, double s) {
        for (int i = 0; i < x.length; i++) {
            double a = x[i];
            double b = y[i];
            x[i] = c * a - s * b;
            y[i] = s * a + c * b;
        }
    }

    /**
     * Modified Gram–Schmidt, twice ("twice is enough"), in place on the vectors {@code q[j]}; returns R
     * {@code [n, n]} row-major (upper triangular) with {@code original_j = Σ_i q_i·R[i, j]}. A vector dependent on the
     * earlier ones becomes zero, and so does its row of R.
     */
    private static double[] orthonormalize(double[][] q) {
        int n = q.length;
        double[] r = new double[n * n];
        for (int j = 0; j < n; j++) {
            double original = Math.sqrt(dot(q[j], q[j]));
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < j; i++) {
                    double d = dot(q[i], q[j]);
                    r[i * n + j] += d;
                    double[] qi = q[i];
                    double[] qj = q[j];
                    for (int k = 0; k < qj.length; k++) {
                        qj[k] -= d * qi[k];
                    }
                }
            }
            double norm = Math.sqrt(dot(q[j], q[j]));
            if (norm <= 1e-13 * original || norm == 0) {
                Arrays.fill(q[j], 0);
                continue;
            }
            r[j * n + j] = norm;
            for (int k = 0; k < q[j].length; k++) {
                q[j][k] /= norm;
            }
        }
        return r;
    }

    /** {@code M·x} for each vector {@code x} of length cols: vectors of length rows. */
    private static double[][] times(float[] m, int rows, int cols, double[][] xs) {
        int l = xs.length;
        double[][] out = new double[l][rows];
        for (int i = 0; i < rows; i++) {
            int base = i * cols;
            for (int j = 0; j < l; j++) {
                double[] x = xs[j];
                double sum = 0;
                for (int c = 0; c < cols; c++) {
                    sum += m[base + c] * x[c];
                }
                out[j][i] = sum;
            }
        }
        return out;
    }

    /** {@code Mᵀ·y} for each vector {@code y} of length rows: vectors of length cols. */
    private static double[][] transposeTimes(float[] m, int rows, int cols, double[][] ys) {
        int l = ys.length;
        double[][] out = new double[l][cols];
        for (int i = 0; i < rows; i++) {
            int base = i * cols;
            for (int j = 0; j < l; j++) {
                double f = ys[j][i];
                if (f == 0) {
                    continue;
                }
                double[] o = out[j];
                for (int c = 0; c < cols; c++) {
                    o[c] += m[base + c] * f;
                }
            }
        }
        return out;
    }

    private static double[][] columns(double[] m, int rows, int cols) {
        double[][] out = new double[cols][rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                out[j][i] = m[i * cols + j];
            }
        }
        return out;
    }

    private static double[][] rowsOf(double[] m, int rows, int cols) {
        double[][] out = new double[rows][];
        for (int i = 0; i < rows; i++) {
            out[i] = Arrays.copyOfRange(m, i * cols, (i + 1) * cols);
        }
        return out;
    }

    private static double[] transpose(double[] m, int rows, int cols) {
        double[] t = new double[m.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = m[i * cols + j];
            }
        }
        return t;
    }

    private static double dot(double[] x, double[] y) {
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += x[i] * y[i];
        }
        return sum;
    }

    private static double gaussian(SplittableRandom rnd) {
        double u1 = rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
