package dev.tailor.train.nn;

import dev.tailor.model.site.LinearHook;
import dev.tailor.model.site.LinearOp;
import dev.tailor.model.site.TrainingPass;
import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;

/**
 * A linear layer {@code y = x·Wᵀ (+ b)} whose weight is frozen (in place, no gradient) or trainable, optionally
 * wrapped by an adapter at its site.
 *
 * @param weight     the weight as the kernels read it (a view of {@code param} when trainable)
 * @param param      the trainable weight, or null when frozen
 * @param bias       the bias values, or null
 * @param biasParam  the trainable bias, or null
 * @param adapter    the adapter at this site, or null
 */
public record Linear(WeightMatrix weight, Parameter param, float[] bias, Parameter biasParam,
                     LinearHook adapter) {

    /** Output features. */
    public int out() {
        return weight.rows();
    }

    /** Input features. */
    public int in() {
        return weight.cols();
    }

    /** {@code y[m, out]}: the layer (through its adapter, if any) applied to {@code x[m, in]}, for inference. */
    public void forward(float[] x, int m, float[] y) {
        if (adapter != null) {
            adapter.forward(base(), x, m, y);
        } else {
            base().forward(x, m, y);
        }
    }

    /**
     * {@link #forward(float[], int, float[])} in training pass {@code pass} (the adapter's dropout applies), or for
     * inference when {@code pass} is null (a forward without backward).
     *
     * @return what the adapter saved for {@link #backward}, {@link LinearHook.Saved#NOTHING} without an adapter
     *         or a pass
     */
    public LinearHook.Saved forward(float[] x, int m, float[] y, TrainingPass pass) {
        if (adapter == null || pass == null) {
            forward(x, m, y);
            return LinearHook.Saved.NOTHING;
        }
        return adapter.forward(base(), x, m, y, pass);
    }

    /**
     * The backward of {@link #forward(float[], int, float[], TrainingPass)} in the same pass, with what it returned:
     * accumulates the gradients of the trainable weight, bias and adapter from {@code dy [m, out]} and the saved
     * input {@code x [m, in]}, and, when {@code dx} is not null, writes the input gradient.
     */
    public void backward(float[] dy, float[] x, int m, float[] dx, TrainingPass pass, LinearHook.Saved saved) {
        if (adapter != null) {
            adapter.backward(base(), dy, x, m, dx, pass, saved);
        } else {
            base().backward(dy, x, m, dx);
        }
    }

    /** Whether any of its tensors (or an adapter) is trained. */
    public boolean trainable() {
        return param != null || biasParam != null || adapter != null;
    }

    private LinearOp base() {
        return new Base(this);
    }

    /** The layer without its adapter: the product with the (frozen or trainable) weight, plus the bias. */
    private record Base(Linear l) implements LinearOp {
        @Override
        public WeightMatrix weight() {
            return l.weight;
        }

        @Override
        public float[] bias() {
            return l.bias;
        }

        @Override
        public void forward(float[] x, int m, float[] y) {
            MatMul.matmulTransposed(x, m, l.weight, y);
            if (l.bias != null) {
                Ops.addBias(y, m, l.bias);
            }
        }

        @Override
        public void backward(float[] dy, float[] x, int m, float[] dx) {
            if (l.param != null) {
                LinearBackward.weightGrad(dy, x, m, l.out(), l.in(), l.param.grad());
            }
            if (l.biasParam != null) {
                float[] g = l.biasParam.grad();
                int n = l.out();
                for (int r = 0; r < m; r++) {
                    for (int j = 0; j < n; j++) {
                        g[j] += dy[r * n + j];
                    }
                }
            }
            if (dx != null) {
                LinearBackward.inputGrad(dy, m, l.weight, dx);
            }
        }
    }
}
