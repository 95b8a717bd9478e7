package dev.tailor.model;

/** The bias addition of a decoder block's linear layers (the residual sums are {@link dev.tailor.tensor.Ops#add}). */
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
}
