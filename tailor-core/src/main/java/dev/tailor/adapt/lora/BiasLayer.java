package dev.tailor.adapt.lora;

import dev.tailor.model.site.LinearHook;
import dev.tailor.model.site.LinearOp;
import dev.tailor.model.site.OutputStage;
import dev.tailor.adapt.MergeableHook;
import dev.tailor.model.site.TrainingPass;
import dev.tailor.tensor.Parameter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A trained bias that takes the place of the base linear's ({@code bias = "lora_only"} or {@code "all"}): around the
 * LoRA or DoRA piece at a targeted linear, or alone at another biased linear. PEFT trains the base bias in place and
 * saves it with the adapter; here the trained bias is the adapter's own tensor, starting as a copy of the base's,
 * and the output is {@code y + (b − b0)} with {@code y} the wrapped output and {@code b0} the base bias it carries
 * (zero when the base has none). So training and inference run the same code, the base stays untouched, and the
 * piece is the identity until b moves.
 */
public final class BiasLayer implements MergeableHook {
    private final Parameter bias;
    private final LinearHook wrapped;
    private float[] replaced;

    /**
     * A bias over {@code wrapped} (the LoRA or DoRA piece at the same linear, or null).
     *
     * @param bias the trained bias {@code [out]}, named as PEFT saves it
     */
    public BiasLayer(Parameter bias, LinearHook wrapped) {
        if (bias.shape().length != 1) {
            throw new IllegalArgumentException(bias.name() + " " + Arrays.toString(bias.shape()) + " is not a vector");
        }
        this.bias = bias;
        this.wrapped = wrapped;
    }

    /** The trained bias. */
    public Parameter bias() {
        return bias;
    }

    /** The piece it wraps, or null. */
    public LinearHook wrapped() {
        return wrapped;
    }

    @Override
    public void checkFits(String module, int out, int in) {
        if (wrapped != null) {
            wrapped.checkFits(module, out, in);
        }
        if (bias.size() != out) {
            throw new IllegalArgumentException(module + ": bias " + bias.name() + " has " + bias.size()
                    + " values but the linear has " + out + " outputs");
        }
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>(wrapped == null ? List.of() : wrapped.parameters());
        out.add(bias);
        return List.copyOf(out);
    }

    @Override
    public void forward(LinearOp inner, float[] x, int m, float[] y) {
        if (wrapped != null) {
            wrapped.forward(inner, x, m, y);
        } else {
            inner.forward(x, m, y);
        }
        replaceBias(y, inner.bias(), m);
    }

    /** A stage when the wrapped piece (if any) has one: its stage, then the bias replaced. */
    @Override
    public OutputStage outputStage() {
        OutputStage inside = wrapped == null ? (inner, x, m, y) -> { } : wrapped.outputStage();
        if (inside == null) {
            return null;
        }
        return (inner, x, m, y) -> {
            inside.apply(inner, x, m, y);
            replaceBias(y, inner.bias(), m);
        };
    }

    /** Returns what the wrapped piece saved: the bias itself needs only {@code dy}. */
    @Override
    public Saved forward(LinearOp inner, float[] x, int m, float[] y, TrainingPass pass) {
        Saved saved = Saved.NOTHING;
        if (wrapped != null) {
            saved = wrapped.forward(inner, x, m, y, pass);
        } else {
            inner.forward(x, m, y);
        }
        replaceBias(y, inner.bias(), m);
        return saved;
    }

    @Override
    public void backward(LinearOp inner, float[] dy, float[] x, int m, float[] dx) {
        biasGrad(dy, m);
        if (wrapped != null) {
            wrapped.backward(inner, dy, x, m, dx);
        } else {
            inner.backward(dy, x, m, dx);
        }
    }

    @Override
    public void backward(LinearOp inner, float[] dy, float[] x, int m, float[] dx, TrainingPass pass, Saved saved) {
        biasGrad(dy, m);
        if (wrapped != null) {
            wrapped.backward(inner, dy, x, m, dx, pass, saved);
        } else {
            inner.backward(dy, x, m, dx);
        }
    }

    /**
     * Merges the wrapped piece, then puts the trained bias in the base's place (remembering the base's for
     * {@link #unmergeFrom}).
     *
     * @throws IllegalArgumentException when the linear has no bias to replace or the wrapped piece cannot merge
     */
    @Override
    public void mergeInto(float[] weight, float[] baseBias) {
        if (baseBias == null) {
            throw new IllegalArgumentException(bias.name() + ": the base linear has no bias to merge the trained one "
                    + "into");
        }
        if (wrapped != null) {
            mergeable().mergeInto(weight, baseBias);
        }
        replaced = baseBias.clone();
        System.arraycopy(bias.data(), 0, baseBias, 0, baseBias.length);
    }

    /**
     * Puts back the bias the last {@link #mergeInto} replaced, then unmerges the wrapped piece.
     *
     * @throws IllegalStateException when nothing was merged
     */
    @Override
    public void unmergeFrom(float[] weight, float[] baseBias) {
        if (replaced == null) {
            throw new IllegalStateException(bias.name() + ": unmerge without a merge (the replaced bias is unknown)");
        }
        System.arraycopy(replaced, 0, baseBias, 0, baseBias.length);
        replaced = null;
        if (wrapped != null) {
            mergeable().unmergeFrom(weight, baseBias);
        }
    }

    private MergeableHook mergeable() {
        if (wrapped instanceof MergeableHook m) {
            return m;
        }
        throw new IllegalArgumentException(bias.name() + ": a " + wrapped.getClass().getSimpleName()
                + " cannot be merged into the weight");
    }

    /** {@code y += b − b0} per row. */
    private void replaceBias(float[] y, float[] base, int m) {
        float[] b = bias.data();
        int n = b.length;
        float[] diff = new float[n];
        for (int j = 0; j < n; j++) {
            diff[j] = base == null ? b[j] : b[j] - base[j];
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                y[i * n + j] += diff[j];
            }
        }
    }

    private void biasGrad(float[] dy, int m) {
        float[] g = bias.grad();
        int n = g.length;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                g[j] += dy[i * n + j];
            }
        }
    }
}
