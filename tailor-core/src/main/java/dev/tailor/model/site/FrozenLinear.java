package dev.tailor.model.site;

import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.WeightMatrix;

/**
 * A frozen base linear {@code y = x·Wᵀ (+ b)}, read in place: the innermost {@link LinearOp} of an adapter stack.
 *
 * @param weight the weight {@code [out, in]}
 * @param bias   the bias {@code [out]}, or null
 */
public record FrozenLinear(WeightMatrix weight, float[] bias) implements LinearOp {

    @Override
    public void forward(float[] x, int m, float[] y) {
        MatMul.matmulTransposed(x, m, weight, y);
        if (bias != null) {
            addBias(y, m, bias);
        }
    }

    @Override
    public void backward(float[] dy, float[] x, int m, float[] dx) {
        if (dx != null) {
            LinearBackward.inputGrad(dy, m, weight, dx);
        }
    }

    /** {@code y[r, j] += b[j]} for each of the {@code m} rows. */
    public static void addBias(float[] y, int m, float[] b) {
        int n = b.length;
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                y[r * n + j] += b[j];
            }
        }
    }
}
