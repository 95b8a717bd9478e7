package dev.tailor.train.optim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One AdamW update of a float32 tensor, in the order of float operations of torch's {@code _single_tensor_adam}
 * with decoupled weight decay on CPU:
 * <pre>
 * p  = p · (1 − lr·wd)                       param.mul_(1 - lr * weight_decay)
 * m  = fma(w, g − m, m)                      exp_avg.lerp_(grad, 1 - beta1)        (w = 1−β1 &lt; 0.5)
 *    = fma(w − 1, g − m, g)                                                       (w ≥ 0.5)
 * v  = v·β2 + ((1−β2)·g)·g                   exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
 * d  = sqrt(v) / sqrt(bc2) + eps             (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
 * p  = p + ((−lr/bc1)·m) / d                 param.addcdiv_(exp_avg, denom, value=-step_size)
 * </pre>
 * Scalars are computed in double (as Python does) and rounded to float once, as torch converts a Python scalar
 * for a float32 kernel. The lerp uses a fused multiply-add as ATen's vectorized {@code lerp_vec} does. The
 * vectorized and scalar paths perform the same IEEE operations, so they agree bit for bit.
 */
public final class AdamWKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private AdamWKernel() {
    }

    /**
     * The step's scalars, rounded to float as torch passes them to its kernels.
     *
     * @param decay         {@code 1 − lr·wd}
     * @param lerpWeight    {@code 1 − β1}
     * @param lerpSmall     {@code |1 − β1| < 0.5}: which of lerp's two formulas applies
     * @param beta2         β2
     * @param oneMinusBeta2 {@code 1 − β2}
     * @param bc2Sqrt       {@code sqrt(1 − β2^t)}
     * @param eps           ε
     * @param negStepSize   {@code −lr / (1 − β1^t)}
     */
    public record Coefficients(float decay, float lerpWeight, boolean lerpSmall, float beta2, float oneMinusBeta2,
                               float bc2Sqrt, float eps, float negStepSize) {

        /** The scalars of update number {@code step} (1-based) at learning rate {@code lr}. */
        public static Coefficients of(AdamW.Config c, double lr, long step) {
            double bc1 = 1 - Math.pow(c.beta1(), step);
            double bc2 = 1 - Math.pow(c.beta2(), step);
            double w = 1 - c.beta1();
            return new Coefficients((float) (1 - lr * c.weightDecay()), (float) w, Math.abs((float) w) < 0.5f,
                    (float) c.beta2(), (float) (1 - c.beta2()), (float) Math.sqrt(bc2), (float) c.eps(),
                    (float) -(lr / bc1));
        }
    }

    /** Updates {@code p}, {@code m}, {@code v} in place from {@code g}; vectorized. */
    public static void update(float[] p, float[] g, float[] m, float[] v, Coefficients c) {
        int n = p.length;
        int bound = S.loopBound(n);
        FloatVector lerpWeight = FloatVector.broadcast(S, c.lerpWeight());
        FloatVector lerpWeightMinusOne = FloatVector.broadcast(S, c.lerpWeight() - 1f);
        int i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector gv = FloatVector.fromArray(S, g, i);
            FloatVector mv = FloatVector.fromArray(S, m, i);
            FloatVector diff = gv.sub(mv);
            mv = c.lerpSmall() ? diff.fma(lerpWeight, mv) : diff.fma(lerpWeightMinusOne, gv);
            FloatVector vv = FloatVector.fromArray(S, v, i).mul(c.beta2()).add(gv.mul(c.oneMinusBeta2()).mul(gv));
            FloatVector denom = vv.sqrt().div(c.bc2Sqrt()).add(c.eps());
            FloatVector pv = FloatVector.fromArray(S, p, i).mul(c.decay());
            pv = pv.add(mv.mul(c.negStepSize()).div(denom));
            mv.intoArray(m, i);
            vv.intoArray(v, i);
            pv.intoArray(p, i);
        }
        updateRange(p, g, m, v, c, i, n);
    }

    /** The scalar twin of {@link #update}: the test oracle. */
    public static void updateScalar(float[] p, float[] g, float[] m, float[] v, Coefficients c) {
        updateRange(p, g, m, v, c, 0, p.length);
    }

    private static void updateRange(float[] p, float[] g, float[] m, float[] v, Coefficients c, int from, int to) {
        float lerpWeightMinusOne = c.lerpWeight() - 1f;
        for (int i = from; i < to; i++) {
            float gi = g[i];
            float diff = gi - m[i];
            float mi = c.lerpSmall() ? Math.fma(diff, c.lerpWeight(), m[i]) : Math.fma(diff, lerpWeightMinusOne, gi);
            float vi = v[i] * c.beta2() + c.oneMinusBeta2() * gi * gi;
            float denom = (float) Math.sqrt(vi) / c.bc2Sqrt() + c.eps();
            float pi = p[i] * c.decay();
            m[i] = mi;
            v[i] = vi;
            p[i] = pi + c.negStepSize() * mi / denom;
        }
    }
}
