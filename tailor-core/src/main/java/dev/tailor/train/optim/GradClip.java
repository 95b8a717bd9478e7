package dev.tailor.train.optim;

import dev.tailor.tensor.Parameter;

import java.util.List;

/** Global-norm gradient clipping as {@code torch.nn.utils.clip_grad_norm_} with the 2-norm. */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Scales all gradients together so their global 2-norm is at most {@code maxNorm}:
     * {@code total = sqrt(Σ g²)} over every element of every parameter (accumulated in double), then, as torch
     * does on its float32 norm, {@code coef = maxNorm · 1/(total + 1e-6)} in float; if {@code coef < 1} every
     * gradient is multiplied by it. A non-finite norm leaves the gradients unchanged (torch would multiply them
     * by NaN), so the caller can skip the step.
     *
     * @param params  the trainable parameters
     * @param maxNorm the largest allowed norm, &gt; 0
     * @return the norm before clipping
     */
    public static double clipGlobalNorm(List<Parameter> params, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("max_grad_norm must be > 0, got " + maxNorm);
        }
        double total = Math.sqrt(sumOfSquares(params));
        if (!Double.isFinite(total)) {
            return total;
        }
        float coef = (1f / ((float) total + 1e-6f)) * (float) maxNorm;
        if (coef < 1f) {
            for (Parameter p : params) {
                float[] g = p.grad();
                for (int i = 0; i < g.length; i++) {
                    g[i] *= coef;
                }
            }
        }
        return total;
    }

    /** {@code Σ g²} over all gradients, in double. */
    public static double sumOfSquares(List<Parameter> params) {
        double sum = 0;
        for (Parameter p : params) {
            for (float x : p.grad()) {
                sum += (double) x * x;
            }
        }
        return sum;
    }
}
