package dev.tailor.model;

/** Element-wise additions of a decoder block (the vectorized kernels are in {@link dev.tailor.tensor.Ops}). */
final class BlockMath {
    private BlockMath() {
    }

    static void addBias(float[] y, int rows, float[] bias) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < bias.length; i++) {
                y[r * bias.length + i] += bias[i];
            }
        }
    }

    static void addInPlace(float[] x, float[] y, int len) {
        for (int i = 0; i < len; i++) {
            x[i] += y[i];
        }
    }
}
