package dev.tailor.model.site;

import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Ops;
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
            Ops.addBias(y, m, bias);
        }
    }

    @Override
    public void backward(float[] dy, float[] x, int m, float[] dx) {
        if (dx != null) {
            LinearBackward.inputGrad(dy, m, weight, dx);
        }
    }
}
