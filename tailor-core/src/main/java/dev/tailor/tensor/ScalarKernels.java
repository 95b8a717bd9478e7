package dev.tailor.tensor;

/** Plain scalar twins of the optimized kernels: the test oracles. */
public final class ScalarKernels {
    private ScalarKernels() {
    }

    /** {@code y[i, j] = Σ_k x[i, k] · w[j, k]}, see {@link MatMul#matmulTransposed}. */
    public static void matmulTransposed(float[] x, int m, WeightMatrix w, float[] y) {
        int n = w.rows();
        int k = w.cols();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int c = 0; c < k; c++) {
                    sum += x[i * k + c] * w.get(j, c);
                }
                y[i * n + j] = sum;
            }
        }
    }
}
