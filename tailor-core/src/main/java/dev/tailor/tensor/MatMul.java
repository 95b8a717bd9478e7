package dev.tailor.tensor;

/**
 * Matrix products over activations (float32 arrays, row-major) and weights ({@link WeightMatrix}).
 */
public final class MatMul {
    private MatMul() {
    }

    /**
     * {@code Y = X·Wᵀ}: {@code y[i, j] = Σ_k x[i, k] · w[j, k]} for a linear layer's forward pass.
     *
     * @param x    activations {@code [m, w.cols()]} starting at {@code x[0]}
     * @param m    number of rows of X
     * @param w    weight {@code [n, k]}
     * @param y    output {@code [m, w.rows()]} starting at {@code y[0]}, overwritten
     */
    public static void matmulTransposed(float[] x, int m, WeightMatrix w, float[] y) {
        ScalarKernels.matmulTransposed(x, m, w, y);
    }
}
