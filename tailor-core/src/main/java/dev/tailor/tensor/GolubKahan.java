package dev.tailor.tensor;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The exact SVD of a dense matrix by the Golub–Kahan–Reinsch algorithm, ported from the public-domain JAMA
 * {@code SingularValueDecomposition} (MathWorks and NIST, after LINPACK's {@code dsvdc}): Householder
 * bidiagonalization {@code A = Q·B·Pᵀ}, then implicit-shift QR on the bidiagonal B, {@code B = U_B·Σ·V_Bᵀ}, so
 * {@code A = (Q·U_B)·Σ·(P·V_B)ᵀ}. All in double precision, on an {@code [m, n]} matrix with {@code m >= n} (the
 * transpose when there are fewer rows than columns).
 *
 * <p>What differs from JAMA is only where the work goes, not the arithmetic of B:
 * <ul>
 *   <li>A is held column-major (one array per column), so both the reflectors and their application run over
 *       contiguous memory, vectorized; the column loops run in parallel.</li>
 *   <li>The QR phase does not rotate U and V as it goes: it logs its plane rotations, sign flips and swaps, and
 *       only the first k singular vectors are formed at the end, by applying the logged operations in reverse to the
 *       first k columns of the identity, {@code V_B·E_k = G₁·(G₂·(…(G_N·E_k)))}, then the reflectors of Q and P.
 *       That costs {@code O(N·k)} for N rotations instead of JAMA's {@code O(N·(m + n))}: with k the rank of a
 *       LoRA pair, the bidiagonalization ({@code 4mn² − 4n³/3} flops) is nearly all the work.</li>
 * </ul>
 */
final class GolubKahan {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final double EPS = 0x1p-52;
    private static final double TINY = 0x1p-966;
    /** Work per step, in matrix entries, below which a step's column loop runs on its caller. */
    private static final long PARALLEL_ENTRIES = 1 << 15;
    /** Bound on the QR steps per singular value; convergence usually takes two or three. */
    private static final int MAX_STEPS_PER_VALUE = 75;

    private GolubKahan() {
    }

    /**
     * The first k triplets of the thin SVD of {@code m [rows, cols]} (row-major), singular values descending.
     *
     * @throws IllegalArgumentException when m holds a NaN or an infinity
     */
    static Svd top(double[] m, int rows, int cols, int k) {
        for (double x : m) {
            if (!Double.isFinite(x)) {
                throw new IllegalArgumentException("the SVD of a matrix with a non-finite entry " + x);
            }
        }
        if (rows < cols) {
            // Mᵀ = U·S·Vᵀ gives M = V·S·Uᵀ; the columns of Mᵀ are the rows of M
            double[][] a = new double[rows][];
            for (int i = 0; i < rows; i++) {
                a[i] = Arrays.copyOfRange(m, i * cols, (i + 1) * cols);
            }
            double[][] f = decompose(a, cols, rows, k);
            return new Svd(rows, cols, k, f[2], f[1], transpose(f[0], cols, k));
        }
        double[][] a = new double[cols][rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                a[j][i] = m[i * cols + j];
            }
        }
        double[][] f = decompose(a, rows, cols, k);
        return new Svd(rows, cols, k, f[0], f[1], transpose(f[2], cols, k));
    }

    /**
     * The first k triplets of {@code A [m, n]}, {@code m >= n}, given as its columns {@code a[j]} (overwritten).
     *
     * @return {@code {U [m, k], s [k], V [n, k]}}, U and V row-major
     */
    private static double[][] decompose(double[][] a, int m, int n, int k) {
        double[] s = new double[n];
        double[] e = new double[n];
        double[][] right = new double[n][];
        bidiagonalize(a, m, n, s, e, right);
        boolean[] leftApplied = new boolean[n];
        int nct = Math.min(m - 1, n);
        for (int j = 0; j < nct; j++) {
            leftApplied[j] = s[j] != 0;
        }
        Log uLog = new Log();
        Log vLog = new Log();
        diagonalize(s, e, n, uLog, vLog);
        double[][] ub = uLog.firstColumns(n, k);
        double[][] vb = vLog.firstColumns(n, k);
        // U = Q·U_B: Q = H₀·H₁·…·H_{nct−1}, applied last to first; U_B padded with zero rows to [m, k]
        double[][] uc = new double[k][m];
        for (int c = 0; c < k; c++) {
            for (int i = 0; i < n; i++) {
                uc[c][i] = ub[i][c];
            }
        }
        boolean parallel = (long) m * k >= PARALLEL_ENTRIES;
        for (int j = nct - 1; j >= 0; j--) {
            if (leftApplied[j]) {
                double[] h = a[j];
                int from = j;
                run(k, parallel, (c0, c1) -> {
                    for (int c = c0; c < c1; c++) {
                        reflect(h, uc[c], from, m);
                    }
                });
            }
        }
        // V = P·V_B: P = H'₀·H'₁·…, H'ⱼ acting on indices j + 1 … n − 1 with the vector right[j]
        double[][] vc = new double[k][n];
        for (int c = 0; c < k; c++) {
            for (int i = 0; i < n; i++) {
                vc[c][i] = vb[i][c];
            }
        }
        for (int j = n - 1; j >= 0; j--) {
            double[] h = right[j];
            if (h != null) {
                int from = j + 1;
                run(k, parallel, (c0, c1) -> {
                    for (int c = c0; c < c1; c++) {
                        reflectShifted(h, vc[c], from);
                    }
                });
            }
        }
        return new double[][] {rowMajor(uc, m, k), Arrays.copyOf(s, k), rowMajor(vc, n, k)};
    }

    /**
     * Householder bidiagonalization (JAMA's first phase): on return {@code s} and {@code e} hold the diagonal and
     * superdiagonal of B, column j of a from row j on holds the left reflector {@code h} of step j
     * ({@code H = I − h·hᵀ/h[j]}, {@code h[j] >= 1}), and {@code right[j]} the right reflector of step j over
     * indices {@code j + 1 … n − 1} ({@code null} where there is none).
     *
     * <p>The arithmetic is JAMA's, but the right reflector of step k − 1 is applied to each column in the same pass
     * as the left reflector of step k, so that a step reads the trailing matrix twice (that pass, and {@code A·h'})
     * and writes it once.
     */
    private static void bidiagonalize(double[][] a, int m, int n, double[] s, double[] e, double[][] right) {
        int nct = Math.min(m - 1, n);
        int nrt = Math.max(0, Math.min(n - 2, m));
        // rows k … m − 1 of A·h' for the right reflector h' of step k − 1, not yet applied to columns k … n − 1
        double[] work = new double[m];
        // with m >= n, nct > nrt: the last right reflector (step nrt − 1) is applied in step nrt, inside the loop
        for (int k = 0; k < Math.max(nct, nrt); k++) {
            double[] ak = a[k];
            int kk = k;
            boolean parallel = (long) (m - k) * (n - k) >= PARALLEL_ENTRIES;
            double[] h = k > 0 ? right[k - 1] : null;
            if (h != null) {
                // rows i >= k of the columns j >= k: A ← A·H' = A − (A·h')·h'ᵀ / h'_k
                axpy(-1, work, ak, k, m); // −h'_k / h'_k
            }
            if (k < nct) {
                // the reflector taking column k to s[k]·e_k: h = x/(±‖x‖) + e_k, then s[k] = ∓‖x‖
                s[k] = norm(ak, k, m);
                if (s[k] != 0) {
                    if (ak[k] < 0) {
                        s[k] = -s[k];
                    }
                    scale(ak, k, m, 1 / s[k]);
                    ak[k] += 1;
                }
                s[k] = -s[k];
            }
            boolean applyLeft = k < nct && s[k] != 0;
            // columns j > k: the right reflector of step k − 1, then a_j ← H·a_j = a_j − (hᵀa_j / h_k)·h; row k of
            // the result goes to e
            Parallel.RangeBody left = (from, to) -> {
                for (int j = kk + 1 + from; j < kk + 1 + to; j++) {
                    double[] aj = a[j];
                    if (h != null) {
                        axpy(-h[j - kk] / h[0], work, aj, kk, m);
                    }
                    if (applyLeft) {
                        axpy(-dot(ak, aj, kk, m) / ak[kk], ak, aj, kk, m);
                    }
                    e[j] = aj[kk];
                }
            };
            run(n - k - 1, parallel, left);
            if (k < nrt) {
                // the reflector taking row k (entries k + 1 …) to e[k]·e_{k+1}, as for the columns
                e[k] = norm(e, k + 1, n);
                if (e[k] != 0) {
                    if (e[k + 1] < 0) {
                        e[k] = -e[k];
                    }
                    scale(e, k + 1, n, 1 / e[k]);
                    e[k + 1] += 1;
                    right[k] = Arrays.copyOfRange(e, k + 1, n);
                    // work = A·h' over rows k + 1 … m − 1, for step k + 1
                    Arrays.fill(work, k + 1, m, 0);
                    Parallel.RangeBody gaxpy = (from, to) -> {
                        for (int j = kk + 1; j < n; j++) {
                            axpy(e[j], a[j], work, kk + 1 + from, kk + 1 + to);
                        }
                    };
                    run(m - k - 1, parallel, gaxpy);
                }
                e[k] = -e[k];
            }
        }
        // the bidiagonal of order n (m >= n): its last diagonal entry and superdiagonal entry
        if (nct < n) {
            s[nct] = a[nct][nct];
        }
        if (nrt + 1 < n) {
            e[nrt] = a[n - 1][nrt];
        }
        e[n - 1] = 0;
    }

    /**
     * Implicit-shift QR on the bidiagonal {@code (s, e)} of order n until e vanishes (JAMA's second phase); on
     * return s holds the singular values, descending. Each rotation, sign flip and swap JAMA applies to the columns
     * of U or V goes to its log instead.
     */
    private static void diagonalize(double[] s, double[] e, int n, Log u, Log v) {
        int p = n;
        int pp = p - 1;
        long steps = 0;
        while (p > 0) {
            int k;
            int kase;
            // kase 1: s[p−1] and e[k−1] negligible, k < p; 2: s[k] negligible, k < p; 3: e[k−1] negligible, k < p,
            // and s[k] … s[p−1] not (a QR step); 4: e[p−2] negligible (convergence)
            for (k = p - 2; k >= 0; k--) {
                if (Math.abs(e[k]) <= TINY + EPS * (Math.abs(s[k]) + Math.abs(s[k + 1]))) {
                    e[k] = 0;
                    break;
                }
            }
            if (k == p - 2) {
                kase = 4;
            } else {
                int ks;
                for (ks = p - 1; ks > k; ks--) {
                    double t = (ks != p ? Math.abs(e[ks]) : 0) + (ks != k + 1 ? Math.abs(e[ks - 1]) : 0);
                    if (Math.abs(s[ks]) <= TINY + EPS * t) {
                        s[ks] = 0;
                        break;
                    }
                }
                if (ks == k) {
                    kase = 3;
                } else if (ks == p - 1) {
                    kase = 1;
                } else {
                    kase = 2;
                    k = ks;
                }
            }
            k++;
            switch (kase) {
                case 1 -> {
                    // deflate a negligible s[p−1]
                    double f = e[p - 2];
                    e[p - 2] = 0;
                    for (int j = p - 2; j >= k; j--) {
                        double t = Math.hypot(s[j], f);
                        double cs = s[j] / t;
                        double sn = f / t;
                        s[j] = t;
                        if (j != k) {
                            f = -sn * e[j - 1];
                            e[j - 1] = cs * e[j - 1];
                        }
                        v.rotate(j, p - 1, cs, sn);
                    }
                }
                case 2 -> {
                    // split at a negligible s[k−1]
                    double f = e[k - 1];
                    e[k - 1] = 0;
                    for (int j = k; j < p; j++) {
                        double t = Math.hypot(s[j], f);
                        double cs = s[j] / t;
                        double sn = f / t;
                        s[j] = t;
                        f = -sn * e[j];
                        e[j] = cs * e[j];
                        u.rotate(j, k - 1, cs, sn);
                    }
                }
                case 3 -> {
                    if (++steps > (long) MAX_STEPS_PER_VALUE * n) {
                        throw new ArithmeticException("the SVD's QR iteration did not converge");
                    }
                    // the shift: the eigenvalue of the trailing 2×2 of BᵀB nearer its last diagonal entry
                    double scale = Math.max(Math.max(Math.max(Math.max(Math.abs(s[p - 1]), Math.abs(s[p - 2])),
                            Math.abs(e[p - 2])), Math.abs(s[k])), Math.abs(e[k]));
                    double sp = s[p - 1] / scale;
                    double spm1 = s[p - 2] / scale;
                    double epm1 = e[p - 2] / scale;
                    double sk = s[k] / scale;
                    double ek = e[k] / scale;
                    double b = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2;
                    double c = (sp * epm1) * (sp * epm1);
                    double shift = 0;
                    if (b != 0 || c != 0) {
                        shift = Math.sqrt(b * b + c);
                        if (b < 0) {
                            shift = -shift;
                        }
                        shift = c / (b + shift);
                    }
                    double f = (sk + sp) * (sk - sp) + shift;
                    double g = sk * ek;
                    // chase the bulge down the bidiagonal
                    for (int j = k; j < p - 1; j++) {
                        double t = Math.hypot(f, g);
                        double cs = f / t;
                        double sn = g / t;
                        if (j != k) {
                            e[j - 1] = t;
                        }
                        f = cs * s[j] + sn * e[j];
                        e[j] = cs * e[j] - sn * s[j];
                        g = sn * s[j + 1];
                        s[j + 1] = cs * s[j + 1];
                        v.rotate(j, j + 1, cs, sn);
                        t = Math.hypot(f, g);
                        cs = f / t;
                        sn = g / t;
                        s[j] = t;
                        f = cs * e[j] + sn * s[j + 1];
                        s[j + 1] = -sn * e[j] + cs * s[j + 1];
                        g = sn * e[j + 1];
                        e[j + 1] = cs * e[j + 1];
                        u.rotate(j, j + 1, cs, sn);
                    }
                    e[p - 2] = f;
                }
                default -> {
                    // convergence: make s[k] nonnegative, then move it to its place in descending order
                    if (s[k] <= 0) {
                        s[k] = s[k] < 0 ? -s[k] : 0;
                        v.negate(k);
                    }
                    while (k < pp && s[k] < s[k + 1]) {
                        double t = s[k];
                        s[k] = s[k + 1];
                        s[k + 1] = t;
                        v.swap(k, k + 1);
                        u.swap(k, k + 1);
                        k++;
                    }
                    p--;
                }
            }
        }
    }

    /**
     * The operations the QR phase applies to the columns of an orthogonal {@code [n, n]} matrix X, which starts as
     * the identity: {@code X ← X·G} for a plane rotation G on columns (i, j)
     * ({@code xᵢ, xⱼ ← c·xᵢ + s·xⱼ, −s·xᵢ + c·xⱼ}), and sign flips of one column ({@code i == j}).
     */
    private static final class Log {
        private int size;
        private int[] first = new int[64];
        private int[] second = new int[64];
        private double[] cos = new double[64];
        private double[] sin = new double[64];

        void rotate(int i, int j, double c, double s) {
            if (size == first.length) {
                int grown = size + (size >> 1);
                first = Arrays.copyOf(first, grown);
                second = Arrays.copyOf(second, grown);
                cos = Arrays.copyOf(cos, grown);
                sin = Arrays.copyOf(sin, grown);
            }
            first[size] = i;
            second[size] = j;
            cos[size] = c;
            sin[size] = s;
            size++;
        }

        void negate(int i) {
            rotate(i, i, -1, 0);
        }

        /** Exchanges columns i and j: the rotation with c = 0, s = 1 ({@code xᵢ, xⱼ ← xⱼ, −xᵢ}), then {@code −xⱼ}. */
        void swap(int i, int j) {
            rotate(i, j, 0, 1);
            negate(j);
        }

        /**
         * The first k columns of X, {@code [n, k]} as rows: {@code X·E_k = G₁·(G₂·(…(G_N·E_k)))}, each G now acting
         * on two rows ({@code rᵢ, rⱼ ← c·rᵢ − s·rⱼ, s·rᵢ + c·rⱼ}).
         */
        double[][] firstColumns(int n, int k) {
            double[][] x = new double[n][k];
            for (int i = 0; i < k; i++) {
                x[i][i] = 1;
            }
            for (int t = size - 1; t >= 0; t--) {
                double[] ri = x[first[t]];
                if (first[t] == second[t]) {
                    scale(ri, 0, k, cos[t]);
                } else {
                    rotateRows(ri, x[second[t]], cos[t], sin[t], k);
                }
            }
            return x;
        }
    }

    /** {@code body} over {@code [0, count)}: split in ranges over the pool, or in one piece on the caller. */
    private static void run(int count, boolean parallel, Parallel.RangeBody body) {
        if (parallel) {
            Parallel.parallelForRange(count, body);
        } else {
            body.run(0, count);
        }
    }

    /** {@code y[from, m) ← H·y = y − (hᵀy / h[from])·h} over {@code [from, m)}. */
    private static void reflect(double[] h, double[] y, int from, int m) {
        axpy(-dot(h, y, from, m) / h[from], h, y, from, m);
    }

    /** As {@link #reflect} for a reflector h stored from index 0 that acts on {@code y[from, from + h.length)}. */
    private static void reflectShifted(double[] h, double[] y, int from) {
        axpy(-dot(h, 0, y, from, h.length) / h[0], h, 0, y, from, h.length);
    }

    /** {@code Σ x[i]·y[i]} over {@code [from, to)}. */
    private static double dot(double[] x, double[] y, int from, int to) {
        return dot(x, from, y, from, to - from);
    }

    /** {@code y[i] += alpha·x[i]} over {@code [from, to)}. */
    private static void axpy(double alpha, double[] x, double[] y, int from, int to) {
        axpy(alpha, x, from, y, from, to - from);
    }

    /**
     * {@code Σ x[xOff + i]·y[yOff + i]} over {@code i < len}: lane sums in a fixed order, so the same bits on every
     * run.
     */
    private static double dot(double[] x, int xOff, double[] y, int yOff, int len) {
        int i = 0;
        double sum = 0;
        int bound = D.loopBound(len);
        if (bound > 0) {
            DoubleVector acc = DoubleVector.zero(D);
            for (; i < bound; i += D.length()) {
                acc = DoubleVector.fromArray(D, x, xOff + i).fma(DoubleVector.fromArray(D, y, yOff + i), acc);
            }
            for (int l = 0; l < D.length(); l++) {
                sum += acc.lane(l);
            }
        }
        for (; i < len; i++) {
            sum = Math.fma(x[xOff + i], y[yOff + i], sum);
        }
        return sum;
    }

    /** {@code y[yOff + i] += alpha·x[xOff + i]} over {@code i < len}. */
    private static void axpy(double alpha, double[] x, int xOff, double[] y, int yOff, int len) {
        int i = 0;
        int bound = D.loopBound(len);
        DoubleVector va = DoubleVector.broadcast(D, alpha);
        for (; i < bound; i += D.length()) {
            DoubleVector.fromArray(D, x, xOff + i).fma(va, DoubleVector.fromArray(D, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < len; i++) {
            y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
        }
    }

    /** {@code x, y ← c·x − s·y, s·x + c·y} over the first k entries. */
    private static void rotateRows(double[] x, double[] y, double c, double s, int k) {
        int i = 0;
        int bound = D.loopBound(k);
        DoubleVector vc = DoubleVector.broadcast(D, c);
        DoubleVector vs = DoubleVector.broadcast(D, s);
        for (; i < bound; i += D.length()) {
            DoubleVector a = DoubleVector.fromArray(D, x, i);
            DoubleVector b = DoubleVector.fromArray(D, y, i);
            a.mul(vc).sub(b.mul(vs)).intoArray(x, i);
            a.mul(vs).add(b.mul(vc)).intoArray(y, i);
        }
        for (; i < k; i++) {
            double a = x[i];
            double b = y[i];
            x[i] = c * a - s * b;
            y[i] = s * a + c * b;
        }
    }

    private static void scale(double[] x, int from, int to, double f) {
        for (int i = from; i < to; i++) {
            x[i] *= f;
        }
    }

    /** {@code ‖x[from, to)‖₂}, scaled by the largest magnitude so that it neither overflows nor underflows. */
    private static double norm(double[] x, int from, int to) {
        double max = 0;
        for (int i = from; i < to; i++) {
            max = Math.max(max, Math.abs(x[i]));
        }
        if (max == 0) {
            return 0;
        }
        double sum = 0;
        double inv = 1 / max;
        for (int i = from; i < to; i++) {
            double y = x[i] * inv;
            sum += y * y;
        }
        return max * Math.sqrt(sum);
    }

    /** Columns {@code c[j]} of length rows as a row-major {@code [rows, c.length]} array. */
    private static double[] rowMajor(double[][] c, int rows, int cols) {
        double[] out = new double[rows * cols];
        for (int j = 0; j < cols; j++) {
            for (int i = 0; i < rows; i++) {
                out[i * cols + j] = c[j][i];
            }
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
}
