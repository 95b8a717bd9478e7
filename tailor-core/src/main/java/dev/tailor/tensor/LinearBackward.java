package dev.tailor.tensor;

/**
 * The backward products of a linear layer {@code Y = X·Wᵀ}: the input gradient {@code dX = dY·W} (needed for
 * every linear, frozen or not) and the weight gradient {@code dW += dYᵀ·X} (only for trainable weights).
 */
public final class LinearBackward {
    private LinearBackward() {
    }

    /**
     * {@code dx[i, c] = Σ_j dy[i, j] · w[j, c]}, overwriting {@code dx}.
     *
     * @param dy [m, n] with {@code [n, k]} the shape of W
     * @param dx [m, k]
     */
    public static void inputGrad(float[] dy, int m, WeightMatrix w, float[] dx) {
        inputGradScalar(dy, m, w, dx);
    }

    /**
     * {@code dw[j, c] += Σ_i dy[i, j] · x[i, c]}, accumulating into {@code dw}.
     *
     * @param dy [m, n]
     * @param x  [m, k]
     * @param dw [n, k]
     */
    public static void weightGrad(float[] dy, float[] x, int m, int n, int k, float[] dw) {
        weightGradScalar(dy, x, m, n, k, dw);
    }

    /** Scalar twin of {@link #inputGrad}. */
    public static void inputGradScalar(float[] dy, int m, WeightMatrix w, float[] dx) {
        int n = w.rows();
        int k = w.cols();
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < k; c++) {
                float s = 0f;
                for (int j = 0; j < n; j++) {
                    s += dy[i * n + j] * w.get(j, c);
                }
                dx[i * k + c] = s;
            }
        }
    }

    /** Scalar twin of {@link #weightGrad}. */
    public static void weightGradScalar(float[] dy, float[] x, int m, int n, int k, float[] dw) {
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < k; c++) {
                float s = 0f;
                for (int i = 0; i < m; i++) {
                    s += dy[i * n + j] * x[i * k + c];
                }
                dw[j * k + c] += s;
            }
        }
    }
}
