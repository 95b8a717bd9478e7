package dev.tailor.tensor;

import java.util.Arrays;

/**
 * The backward products of a linear layer {@code Y = X·Wᵀ}: the input gradient {@code dX = dY·W} (needed for
 * every linear, frozen or not) and the weight gradient {@code dW += dYᵀ·X} (only for trainable weights).
 *
 * <p>Both run as packed, register-blocked GEMMs on {@link PackedGemm}'s micro-kernels, split across
 * {@link Parallel}'s threads: {@code dX} packs panels of W (widening BF16/F16 once, in the pack) and
 * broadcasts dY ({@link InputGradGemm}); {@code dW} packs X and a transposed strip of dY per task
 * ({@link WeightGradGemm}). W is read in place, never copied whole.
 */
public final class LinearBackward {
    private LinearBackward() {
    }

    /**
     * {@code dx[i, c] = Σ_j dy[i, j] · w[j, c]}, overwriting {@code dx}.
     *
     * @param dy [m, n] with {@code [n, k]} the shape of W
     * @param dx [m, k]
     * @throws IllegalArgumentException naming the array that is too short for the shapes
     */
    public static void inputGrad(float[] dy, int m, WeightMatrix w, float[] dx) {
        int n = w.rows();
        int k = w.cols();
        if (!w.dtype().hasKernels()) {
            throw new IllegalArgumentException("no kernels for " + w.dtype() + " weights; dequantize them first");
        }
        checkLength("dy", dy.length, m, n);
        checkLength("dx", dx.length, m, k);
        if (m == 0 || k == 0) {
            return;
        }
        if (n == 0) {
            Arrays.fill(dx, 0, m * k, 0f);
            return;
        }
        InputGradGemm.run(dy, m, w, dx, false);
    }

    /**
     * {@code dx[i, c] += Σ_j dy[i, j] · w[j, c]}: {@link #inputGrad} accumulating into {@code dx}.
     *
     * @throws IllegalArgumentException naming the array that is too short for the shapes
     */
    public static void inputGradAdd(float[] dy, int m, WeightMatrix w, float[] dx) {
        int n = w.rows();
        int k = w.cols();
        if (!w.dtype().hasKernels()) {
            throw new IllegalArgumentException("no kernels for " + w.dtype() + " weights; dequantize them first");
        }
        checkLength("dy", dy.length, m, n);
        checkLength("dx", dx.length, m, k);
        if (m == 0 || k == 0 || n == 0) {
            return;
        }
        InputGradGemm.run(dy, m, w, dx, true);
    }

    /**
     * {@code dw[j, c] += Σ_i dy[i, j] · x[i, c]}, accumulating into {@code dw}.
     *
     * @param dy [m, n]
     * @param x  [m, k]
     * @param dw [n, k]
     * @throws IllegalArgumentException naming the array that is too short for the shapes
     */
    public static void weightGrad(float[] dy, float[] x, int m, int n, int k, float[] dw) {
        checkLength("dy", dy.length, m, n);
        checkLength("x", x.length, m, k);
        checkLength("dw", dw.length, n, k);
        if (m == 0 || n == 0 || k == 0) {
            return;
        }
        WeightGradGemm.run(dy, x, m, n, k, dw);
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

    private static void checkLength(String name, int length, int rows, int cols) {
        long size = (long) rows * cols;
        if (rows < 0 || cols < 0 || size > length) {
            throw new IllegalArgumentException(name + " needs " + size + " floats ([" + rows + ", " + cols
                    + "]), but has length " + length);
        }
    }
}
