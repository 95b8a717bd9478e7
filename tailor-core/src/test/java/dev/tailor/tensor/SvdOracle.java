package dev.tailor.tensor;

import java.util.Arrays;

/**
 * A naive scalar oracle for singular values: the cyclic Jacobi eigenvalue method on the symmetric Gram matrix of
 * the smaller side, {@code σᵢ = sqrt(λᵢ)}, descending. Slow and squared-conditioned, but independent of {@link Svd}.
 */
public final class SvdOracle {
    private SvdOracle() {
    }

    public static double[] singularValues(double[] m, int rows, int cols) {
        boolean tall = rows >= cols;
        int n = tall ? cols : rows;
        int len = tall ? rows : cols;
        double[][] g = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int k = 0; k < len; k++) {
                    sum += tall ? m[k * cols + i] * m[k * cols + j] : m[i * cols + k] * m[j * cols + k];
                }
                g[i][j] = sum;
            }
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += g[p][q] * g[p][q];
                }
            }
            if (off < 1e-30) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (g[p][q] == 0) {
                        continue;
                    }
                    double theta = (g[q][q] - g[p][p]) / (2 * g[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        double gkp = g[k][p];
                        double gkq = g[k][q];
                        g[k][p] = c * gkp - s * gkq;
                        g[k][q] = s * gkp + c * gkq;
                    }
                    for (int k = 0; k < n; k++) {
                        double gpk = g[p][k];
                        double gqk = g[q][k];
                        g[p][k] = c * gpk - s * gqk;
                        g[q][k] = s * gpk + c * gqk;
                    }
                }
            }
        }
        double[] sigma = new double[n];
        for (int i = 0; i < n; i++) {
            sigma[i] = Math.sqrt(Math.max(g[i][i], 0));
        }
        Arrays.sort(sigma);
        for (int i = 0; i < n / 2; i++) {
            double t = sigma[i];
            sigma[i] = sigma[n - 1 - i];
            sigma[n - 1 - i] = t;
        }
        return sigma;
    }

    /** {@code sqrt(Σ_{i >= k} σᵢ²)}: the Frobenius error of the best rank-k approximation (Eckart–Young). */
    public static double tail(double[] sigma, int k) {
        double sum = 0;
        for (int i = k; i < sigma.length; i++) {
            sum += sigma[i] * sigma[i];
        }
        return Math.sqrt(sum);
    }

    public static double frobeniusDistance(double[] x, double[] y) {
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += (x[i] - y[i]) * (x[i] - y[i]);
        }
        return Math.sqrt(sum);
    }
}
