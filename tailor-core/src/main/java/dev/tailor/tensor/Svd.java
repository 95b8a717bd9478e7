package dev.tailor.tensor;

import java.util.Arrays;

/**
 * A singular value decomposition {@code M ≈ U·diag(s)·Vᵀ} of a {@code [rows, cols]} matrix, the singular values
 * descending; what the {@code svd} combinations of LoRA adapters keep of a combined ΔW.
 *
 * <p>Two ways in, both exact up to rounding and neither depending on a seed or forming an {@code [in, in]} or
 * {@code [out, out]} Gram matrix:
 * <ul>
 *   <li>{@link #ofProduct}: {@code M = B·A} with a small inner dimension R (a sum of LoRA pairs). QR of B and of
 *       Aᵀ gives {@code M = Q_B·(R_B·R_Aᵀ)·Q_Aᵀ}; the SVD of the {@code [R, R]} core is exact, and costs
 *       {@code O((rows + cols)·R²)}.</li>
 *   <li>{@link #of} and {@link #top} of a dense matrix: Golub–Kahan–Reinsch ({@link GolubKahan}), Householder
 *       bidiagonalization then implicit-shift QR, {@code O(max·min²)} flops, and LAPACK's (so PyTorch's) exact SVD
 *       up to rounding. It replaces a randomized range finder whose truncation depended on its seed and, where the
 *       kept singular values were not well separated from the rest, differed from LAPACK by up to 6% of ΔW.</li>
 * </ul>
 * {@link #canonical} then fixes what an SVD leaves open, so the result is a function of M alone: the signs of the
 * singular pairs and the singular vectors of zero singular values.
 *
 * @param rows rows of M
 * @param cols columns of M
 * @param rank number of singular triplets kept
 * @param u    left singular vectors {@code [rows, rank]}, row-major
 * @param s    singular values {@code [rank]}, descending
 * @param vt   right singular vectors transposed {@code [rank, cols]}, row-major
 */
public record Svd(int rows, int cols, int rank, double[] u, double[] s, double[] vt) {
    /**
     * Relative rank tolerance for float32 data: a singular value at most {@code σ₀·max(rows, cols)·ε} with
     * {@code ε = 2⁻²³} counts as zero, as in {@code torch.linalg.matrix_rank}'s default.
     */
    public static final double FLOAT_RANK_TOLERANCE = 0x1p-23;

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
     * The first {@code k} triplets of the full SVD of M ({@code k <= min(rows, cols)}, more than this SVD may hold)
     * in a canonical form, so that they depend on M alone and not on how they were computed:
     * <ul>
     *   <li>a singular value at most {@code tolerance·s[0]} counts as zero;</li>
     *   <li>each pair of a nonzero singular value takes the sign that makes the entry of largest magnitude of its
     *       left vector positive (the first such entry on a tie): {@code (u, v) → (−u, −v)} leaves
     *       {@code u·σ·vᵀ} unchanged;</li>
     *   <li>the singular vectors of zero singular values complete the others to orthonormal sets, on each side
     *       separately, as {@link #complete} does.</li>
     * </ul>
     *
     * @throws IllegalArgumentException when {@code k} exceeds {@code min(rows, cols)}
     */
    public Svd canonical(int k, double tolerance) {
        if (k < 0 || k > Math.min(rows, cols)) {
            throw new IllegalArgumentException("a [" + rows + ", " + cols + "] matrix has at most "
                    + Math.min(rows, cols) + " singular triplets, asked for " + k);
        }
        double cut = rank == 0 ? 0 : tolerance * s[0];
        int kept = 0;
        while (kept < Math.min(k, rank) && s[kept] > cut) {
            kept++;
        }
        double[][] left = new double[k][];
        double[][] right = new double[k][];
        double[] sk = new double[k];
        for (int c = 0; c < kept; c++) {
            left[c] = new double[rows];
            for (int i = 0; i < rows; i++) {
                left[c][i] = u[i * rank + c];
            }
            right[c] = Arrays.copyOfRange(vt, c * cols, (c + 1) * cols);
            sk[c] = s[c];
            int largest = 0;
            for (int i = 1; i < rows; i++) {
                if (Math.abs(left[c][i]) > Math.abs(left[c][largest])) {
                    largest = i;
                }
            }
            if (left[c][largest] < 0) {
                for (int i = 0; i < rows; i++) {
                    left[c][i] = -left[c][i];
                }
                for (int j = 0; j < cols; j++) {
                    right[c][j] = -right[c][j];
                }
            }
        }
        complete(left, kept, rows);
        complete(right, kept, cols);
        double[] uk = new double[rows * k];
        double[] vtk = new double[k * cols];
        for (int c = 0; c < k; c++) {
            for (int i = 0; i < rows; i++) {
                uk[i * k + c] = left[c][i];
            }
            System.arraycopy(right[c], 0, vtk, c * cols, cols);
        }
        return new Svd(rows, cols, k, uk, sk, vtk);
    }

    /**
     * Completes the orthonormal vectors {@code vs[0 .. from)} of length n to {@code vs.length} orthonormal vectors.
     * Each next one is the coordinate axis {@code eᵢ} with the largest component orthogonal to the vectors so far,
     * {@code 1 − Σⱼ vⱼ[i]²} (the first axis on a tie), orthogonalised against them twice (modified Gram–Schmidt) and
     * normalised. An orthonormal completion is not unique; this one is deterministic and well conditioned (the
     * chosen axis keeps at least {@code (n − c)/n} of its squared norm when c vectors are taken).
     */
    static void complete(double[][] vs, int from, int n) {
        for (int c = from; c < vs.length; c++) {
            double[] residual = new double[n];
            Arrays.fill(residual, 1);
            for (int j = 0; j < c; j++) {
                for (int i = 0; i < n; i++) {
                    residual[i] -= vs[j][i] * vs[j][i];
                }
            }
            int axis = 0;
            for (int i = 1; i < n; i++) {
                if (residual[i] > residual[axis]) {
                    axis = i;
                }
            }
            double[] e = new double[n];
            e[axis] = 1;
            for (int pass = 0; pass < 2; pass++) {
                for (int j = 0; j < c; j++) {
                    double d = dot(vs[j], e);
                    for (int i = 0; i < n; i++) {
                        e[i] -= d * vs[j][i];
                    }
                }
            }
            double norm = Math.sqrt(dot(e, e));
            for (int i = 0; i < n; i++) {
                e[i] /= norm;
            }
            vs[c] = e;
        }
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
        Svd small = top(core, inner, inner, Math.min(rank, inner));
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
     * The exact thin SVD of {@code m [rows, cols]} (row-major), {@code min(rows, cols)} triplets, by
     * Golub–Kahan–Reinsch (see {@link GolubKahan}).
     */
    public static Svd of(double[] m, int rows, int cols) {
        return top(m, rows, cols, Math.min(rows, cols));
    }

    /**
     * The first k triplets of the exact thin SVD of {@code m [rows, cols]} (row-major): the same as
     * {@code of(m, rows, cols).truncate(k)}, but the QR phase forms only k singular vectors on each side, so what
     * remains of the cost beyond the bidiagonalization ({@code 4·max·min² − 4·min³/3} flops) grows with k.
     *
     * @throws IllegalArgumentException when k is not in {@code [0, min(rows, cols)]} or m has a non-finite entry
     */
    public static Svd top(double[] m, int rows, int cols, int k) {
        if (k < 0 || k > Math.min(rows, cols)) {
            throw new IllegalArgumentException("a [" + rows + ", " + cols + "] matrix has at most "
                    + Math.min(rows, cols) + " singular triplets, asked for " + k);
        }
        if (k == 0) {
            return new Svd(rows, cols, 0, new double[0], new double[0], new double[0]);
        }
        return GolubKahan.top(m, rows, cols, k);
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

    private static double dot(double[] x, double[] y) {
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += x[i] * y[i];
        }
        return sum;
    }
}
