package dev.tailor.adapt.ia3;

import dev.tailor.model.site.LinearOp;
import dev.tailor.model.site.OutputStage;
import dev.tailor.adapt.MergeableHook;
import dev.tailor.tensor.Parameter;

import java.util.Arrays;
import java.util.List;

/**
 * One (IA)³ vector at a linear site, as PEFT's {@code IA3Layer}: {@code ia3_l} of shape {@code [out, 1]} scales the
 * wrapped layer's output, bias included ({@code y = l ⊙ inner(x)}); of shape {@code [1, in]} (a feed-forward module)
 * it scales the layer's input ({@code y = inner(l ⊙ x)}, the bias unscaled).
 *
 * <p>Backward, output scaling: {@code dl[j] += Σ_r dy[r, j]·inner(x)[r, j]} (inner's output is recomputed, nothing
 * is kept from forward), then inner's backward with {@code dy ⊙ l}. Input scaling: inner's backward on the scaled
 * input {@code x ⊙ l} gives {@code dx'} (computed even when the caller needs no input gradient), then
 * {@code dl[c] += Σ_r dx'[r, c]·x[r, c]} and {@code dx = dx' ⊙ l}.
 */
public final class Ia3Layer implements MergeableHook {
    private final Parameter l;
    private final boolean feedforward;

    /**
     * An adapter over an existing vector.
     *
     * @param l           {@code ia3_l}: {@code [out, 1]}, or {@code [1, in]} for a feed-forward module
     * @param feedforward whether it scales the input (then {@code l} must be {@code [1, in]})
     * @throws IllegalArgumentException naming the tensor when its shape does not fit the kind
     */
    public Ia3Layer(Parameter l, boolean feedforward) {
        long[] s = l.shape();
        boolean fits = s.length == 2 && (feedforward ? s[0] == 1 : s[1] == 1);
        if (!fits) {
            throw new IllegalArgumentException(l.name() + " " + Arrays.toString(s) + ": an (IA)³ vector "
                    + (feedforward ? "of a feed-forward module is [1, in_features]" : "is [out_features, 1]"));
        }
        this.l = l;
        this.feedforward = feedforward;
    }

    /**
     * A fresh adapter for {@code module} named as PEFT saves it ({@code base_model.model.<module>.ia3_l}), all ones
     * (PEFT's {@code init_ia3_weights=True}), so it starts as the identity.
     *
     * @param out features of the linear's output
     * @param in  features of the linear's input
     */
    public static Ia3Layer create(String module, int out, int in, boolean feedforward) {
        int n = feedforward ? in : out;
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        long[] shape = feedforward ? new long[] {1, n} : new long[] {n, 1};
        return new Ia3Layer(new Parameter("base_model.model." + module + ".ia3_l", shape, ones), feedforward);
    }

    /** Whether it scales the input (a feed-forward module) rather than the output. */
    public boolean feedforward() {
        return feedforward;
    }

    /** The vector {@code ia3_l}. */
    public Parameter vector() {
        return l;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(l);
    }

    @Override
    public void checkFits(String module, int out, int in) {
        int expected = feedforward ? in : out;
        if (l.size() != expected) {
            throw new IllegalArgumentException(module + ": (IA)³ vector " + Arrays.toString(l.shape()) + " scales "
                    + l.size() + (feedforward ? " input" : " output") + " features but the model's linear is ["
                    + out + ", " + in + "]");
        }
    }

    @Override
    public void forward(LinearOp inner, float[] x, int m, float[] y) {
        if (feedforward) {
            inner.forward(scaleColumns(x, m), m, y);
        } else {
            inner.forward(x, m, y);
            scaleInPlace(y, m);
        }
    }

    /** Scaling an output is a stage; scaling a feed-forward input changes what the base sees, so is none. */
    @Override
    public OutputStage outputStage() {
        return feedforward ? null : (inner, x, m, y) -> scaleInPlace(y, m);
    }

    @Override
    public void backward(LinearOp inner, float[] dy, float[] x, int m, float[] dx) {
        float[] scale = l.data();
        float[] grad = l.grad();
        int n = scale.length;
        if (feedforward) {
            float[] dxInner = dx != null ? dx : new float[m * n];
            inner.backward(dy, scaleColumns(x, m), m, dxInner);
            for (int r = 0; r < m; r++) {
                int row = r * n;
                for (int c = 0; c < n; c++) {
                    grad[c] += dxInner[row + c] * x[row + c];
                }
            }
            if (dx != null) {
                scaleInPlace(dx, m);
            }
        } else {
            float[] inner0 = new float[m * n];
            inner.forward(x, m, inner0);
            float[] dyScaled = new float[m * n];
            for (int r = 0; r < m; r++) {
                int row = r * n;
                for (int j = 0; j < n; j++) {
                    grad[j] += dy[row + j] * inner0[row + j];
                    dyScaled[row + j] = dy[row + j] * scale[j];
                }
            }
            inner.backward(dyScaled, x, m, dx);
        }
    }

    /**
     * Output scaling multiplies row {@code j} of the weight and {@code bias[j]} by {@code l[j]}; input scaling
     * multiplies column {@code c} of the weight by {@code l[c]} (the bias is unchanged), as PEFT's {@code merge}.
     */
    @Override
    public void mergeInto(float[] weight, float[] bias) {
        apply(weight, bias, false);
    }

    /**
     * Divides what {@link #mergeInto} multiplied.
     *
     * @throws IllegalArgumentException naming the tensor when an entry of {@code ia3_l} is zero (the merge lost
     *                                  that row or column)
     */
    @Override
    public void unmergeFrom(float[] weight, float[] bias) {
        float[] scale = l.data();
        for (int i = 0; i < scale.length; i++) {
            if (scale[i] == 0f) {
                throw new IllegalArgumentException(l.name() + "[" + i + "] is 0: the merged weight cannot be "
                        + "unmerged");
            }
        }
        apply(weight, bias, true);
    }

    private void apply(float[] weight, float[] bias, boolean divide) {
        float[] scale = l.data();
        int n = scale.length;
        if (feedforward) {
            for (int off = 0; off < weight.length; off += n) {
                for (int c = 0; c < n; c++) {
                    weight[off + c] = divide ? weight[off + c] / scale[c] : weight[off + c] * scale[c];
                }
            }
            return;
        }
        int in = weight.length / n;
        for (int j = 0; j < n; j++) {
            for (int c = j * in; c < (j + 1) * in; c++) {
                weight[c] = divide ? weight[c] / scale[j] : weight[c] * scale[j];
            }
            if (bias != null) {
                bias[j] = divide ? bias[j] / scale[j] : bias[j] * scale[j];
            }
        }
    }

    /** {@code x ⊙ l} row by row, {@code x [m, in]} (a copy). */
    private float[] scaleColumns(float[] x, int m) {
        float[] out = Arrays.copyOf(x, m * l.size());
        scaleInPlace(out, m);
        return out;
    }

    /** {@code a[r, j] *= l[j]} for the {@code m} rows of {@code a}. */
    private void scaleInPlace(float[] a, int m) {
        float[] scale = l.data();
        int n = scale.length;
        for (int r = 0; r < m; r++) {
            int row = r * n;
            for (int j = 0; j < n; j++) {
                a[row + j] *= scale[j];
            }
        }
    }
}
