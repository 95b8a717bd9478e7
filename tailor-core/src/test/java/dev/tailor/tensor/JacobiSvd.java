package dev.tailor.tensor;

import java.util.Arrays;

/**
 * The exact SVD by one-sided Jacobi (Hestenes) rotations: the scalar twin of {@link Svd#of} that the tests hold
 * Golub–Kahan–Reinsch to. Sweeps of rotations orthogonalise the columns pairwise until no pair has a cosine above
 * {@code 10⁻¹⁵}; {@code O(rows·cols·min(rows, cols))} per sweep, so slow on large matrices, but simple and accurate
 * (its singular values have high relative accuracy).
 */
public final class JacobiSvd {
    private static final double TOLERANCE = 1e-15;
    private static final int MAX_SWEEPS = 80;

    private JacobiSvd() {
    }

    /**
     * The exact thin SVD of {@code m [rows, cols]} (row-major) by one-sided Jacobi rotations on the columns of m (or
     * of mᵀ, whichever has fewer), {@code min(rows, cols)} triplets. Singular vectors of zero singular values are
     * zero.
     */
    public static Svd svd(double[] m, int rows, int cols) {
        if (rows < cols) {
            double[] t = new double[m.length];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    t[j * rows + i] = m[i * cols + j];
                }
            }
            Svd s = svd(t, cols, rows);
            return new Svd(rows, cols, s.rank(), transpose(s.vt(), s.rank(), rows), s.s(),
                    transpose(s.u(), cols, s.rank()));
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

    private static double[][] columns(double[] m, int rows, int cols) {
        double[][] out = new double[cols][rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                out[j][i] = m[i * cols + j];
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

    private static double dot(double[] x, double[] y) {
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += x[i] * y[i];
        }
        return sum;
    }
}
