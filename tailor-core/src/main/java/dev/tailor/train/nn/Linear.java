package dev.tailor.train.nn;

import dev.tailor.adapt.LinearAdapter;
import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.train.Parameter;

/**
 * A linear layer {@code y = x·Wᵀ (+ b) (+ adapter(x))} whose weight is frozen (in place, no gradient) or
 * trainable, optionally with an adapter at its site.
 *
 * @param weight     the weight as the kernels read it (a view of {@code param} when trainable)
 * @param param      the trainable weight, or null when frozen
 * @param bias       the bias values, or null
 * @param biasParam  the trainable bias, or null
 * @param adapter    the adapter at this site, or null
 */
public record Linear(WeightMatrix weight, Parameter param, float[] bias, Parameter biasParam,
                     LinearAdapter adapter) {

    /** Output features. */
    public int out() {
        return weight.rows();
    }

    /** Input features. */
    public int in() {
        return weight.cols();
    }

    /** {@code y[m, out] = x[m, in]·Wᵀ + b (+ adapter(x))}. */
    public void forward(float[] x, int m, float[] y) {
        MatMul.matmulTransposed(x, m, weight, y);
        if (adapter != null) {
            adapter.forward(x, m, y);
        }
        if (bias != null) {
            int n = out();
            for (int r = 0; r < m; r++) {
                for (int j = 0; j < n; j++) {
                    y[r * n + j] += bias[j];
                }
            }
        }
    }

    /**
     * Accumulates the weight and bias gradients from {@code dy [m, out]} and the saved input {@code x [m, in]},
     * and, when {@code dx} is not null, writes the input gradient {@code dx = dy·W}.
     */
    public void backward(float[] dy, float[] x, int m, float[] dx) {
        if (param != null) {
            LinearBackward.weightGrad(dy, x, m, out(), in(), param.grad());
        }
        if (biasParam != null) {
            float[] g = biasParam.grad();
            int n = out();
            for (int r = 0; r < m; r++) {
                for (int j = 0; j < n; j++) {
                    g[j] += dy[r * n + j];
                }
            }
        }
        if (dx != null) {
            LinearBackward.inputGrad(dy, m, weight, dx);
        }
        if (adapter != null) {
            adapter.backward(dy, x, m, dx);
        }
    }

    /** Whether any of its tensors (or an adapter) is trained. */
    public boolean trainable() {
        return param != null || biasParam != null || adapter != null;
    }
}
