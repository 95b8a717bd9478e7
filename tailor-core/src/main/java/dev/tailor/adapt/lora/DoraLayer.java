package dev.tailor.adapt.lora;

import dev.tailor.model.site.LinearOp;
import dev.tailor.model.site.OutputStage;
import dev.tailor.adapt.MergeableHook;
import dev.tailor.model.site.TrainingPass;
import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;

import java.util.Arrays;
import java.util.List;

/**
 * DoRA (Liu et al., 2024) at a linear site, as PEFT computes it ({@code peft/tuners/lora/dora.py}): a LoRA pair
 * plus a magnitude {@code m [out]} ({@code lora_magnitude_vector}). With {@code V = W0 + s·B·A}, {@code ‖V‖} the L2
 * norm of each output row and {@code g = m/‖V‖} (the norm detached: a constant in backward, DoRA paper §4.3),
 * <pre>
 *   y = y0 + (g − 1)·z + g·s·B·A·x̃
 * </pre>
 * where {@code y0 = inner(x)} (with its bias b), {@code x̃} the dropped-out input. Without dropout (inference, or
 * {@code lora_dropout = 0}) {@code z = y0 − b}, so {@code y = g·(W0·x + s·B·A·x) + b}; with dropout in training
 * {@code z = W0·x̃}, as PEFT does. {@code m} starts at {@code ‖W0‖} (B = 0), so the adapter starts as the identity.
 * The row norms are recomputed from W0 (read in place, row by row) at every call, as the pair changes each step.
 */
public final class DoraLayer implements MergeableHook {
    private final LoraLayer lora;
    private final Parameter magnitude;
    private float[] mergedNorms;

    /**
     * DoRA over an existing pair and magnitude.
     *
     * @throws IllegalArgumentException naming the magnitude when it is not {@code [out]} of the pair
     */
    public DoraLayer(LoraLayer lora, Parameter magnitude) {
        long[] shape = magnitude.shape();
        if (shape.length != 1 || shape[0] != lora.out()) {
            throw new IllegalArgumentException(magnitude.name() + " " + Arrays.toString(shape) + " does not fit a pair "
                    + "with " + lora.out() + " output features: the magnitude is [out]");
        }
        this.lora = lora;
        this.magnitude = magnitude;
    }

    /**
     * Fresh DoRA on the base weight {@code w0} of {@code module}: the magnitude is PEFT's initial
     * {@code ‖W0 + s·B·A‖} = {@code ‖W0‖}, named {@code base_model.model.<module>.lora_magnitude_vector} as PEFT
     * saves it.
     */
    public static DoraLayer create(String module, LoraLayer lora, WeightMatrix w0) {
        float[] norms = norms(lora, w0);
        return new DoraLayer(lora, new Parameter("base_model.model." + module + ".lora_magnitude_vector",
                new long[] {lora.out()}, norms));
    }

    /** The LoRA pair. */
    public LoraLayer lora() {
        return lora;
    }

    /** The magnitude {@code m [out]}. */
    public Parameter magnitude() {
        return magnitude;
    }

    @Override
    public void checkFits(String module, int out, int in) {
        lora.checkFits(module, out, in);
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(lora.parameters().get(0), lora.parameters().get(1), magnitude);
    }

    @Override
    public void forward(LinearOp inner, float[] x, int m, float[] y) {
        inner.forward(x, m, y);
        rescale(inner, x, m, y);
    }

    @Override
    public OutputStage outputStage() {
        return this::rescale;
    }

    /** Turns {@code inner}'s output {@code y} for {@code x} into DoRA's, in place (inference). */
    private void rescale(LinearOp inner, float[] x, int m, float[] y) {
        float[] g = factors(inner.weight());
        float[] l = new float[m * lora.out()];
        lora.addProduct(x, m, l);
        combine(y, baseResult(y, inner.bias(), m), l, g, m);
    }

    /** Saves nothing: the backward recomputes the dropout mask, the norms and the products from the input. */
    @Override
    public Saved forward(LinearOp inner, float[] x, int m, float[] y, TrainingPass pass) {
        if (lora.dropout() == 0) {
            forward(inner, x, m, y);
            return Saved.NOTHING;
        }
        inner.forward(x, m, y);
        float[] g = factors(inner.weight());
        float[] xd = lora.dropped(x, m, pass);
        float[] l = new float[m * lora.out()];
        lora.addProduct(xd, m, l);
        combine(y, product(xd, m, inner.weight()), l, g, m);
        return Saved.NOTHING;
    }

    @Override
    public void backward(LinearOp inner, float[] dy, float[] x, int m, float[] dx) {
        int out = lora.out();
        float[] norms = norms(lora, inner.weight());
        float[] g = factors(norms);
        float[] y0 = new float[m * out];
        inner.forward(x, m, y0);
        float[] l = new float[m * out];
        lora.addProduct(x, m, l);
        magnitudeGrad(dy, baseResult(y0, inner.bias(), m), l, norms, m);
        // y = g·y0 − (g − 1)·b + g·l: both y0 and l see g·dy
        float[] gdy = scaled(dy, g, 0, m);
        inner.backward(gdy, x, m, dx);
        lora.pairBackward(gdy, x, m, dx);
    }

    @Override
    public void backward(LinearOp inner, float[] dy, float[] x, int m, float[] dx, TrainingPass pass, Saved saved) {
        if (lora.dropout() == 0) {
            backward(inner, dy, x, m, dx);
            return;
        }
        int out = lora.out();
        WeightMatrix w0 = inner.weight();
        float[] norms = norms(lora, w0);
        float[] g = factors(norms);
        inner.backward(dy, x, m, dx);
        float[] xd = lora.dropped(x, m, pass);
        float[] l = new float[m * out];
        lora.addProduct(xd, m, l);
        magnitudeGrad(dy, product(xd, m, w0), l, norms, m);
        // y = y0 + (g − 1)·W0·x̃ + g·l(x̃)
        float[] dxd = null;
        if (dx != null) {
            dxd = new float[m * lora.in()];
            LinearBackward.inputGrad(scaled(dy, g, -1, m), m, w0, dxd);
        }
        lora.pairBackward(scaled(dy, g, 0, m), xd, m, dxd);
        if (dx != null) {
            float[] part = lora.dropped(dxd, m, pass);
            for (int i = 0; i < part.length; i++) {
                dx[i] += part[i];
            }
        }
    }

    /** PEFT's merge: {@code W' = (m/‖V‖)·V} with {@code V = W + s·B·A}; the bias is unchanged. */
    @Override
    public void mergeInto(float[] weight, float[] bias) {
        int in = lora.in();
        float[] d = lora.delta();
        float[] norms = new float[lora.out()];
        for (int j = 0; j < norms.length; j++) {
            double sum = 0;
            for (int c = j * in; c < (j + 1) * in; c++) {
                weight[c] += d[c];
                sum += (double) weight[c] * weight[c];
            }
            norms[j] = (float) Math.sqrt(sum);
            float f = magnitude.data()[j] / norms[j];
            for (int c = j * in; c < (j + 1) * in; c++) {
                weight[c] *= f;
            }
        }
        mergedNorms = norms;
    }

    /**
     * PEFT's unmerge, {@code W = W'/(m/‖V‖) − s·B·A}, with the norms of the last {@link #mergeInto} (as PEFT caches
     * them: the merged weight no longer tells them).
     *
     * @throws IllegalStateException when nothing was merged
     */
    @Override
    public void unmergeFrom(float[] weight, float[] bias) {
        if (mergedNorms == null) {
            throw new IllegalStateException(magnitude.name() + ": unmerge without a merge (DoRA needs the norms of "
                    + "the merged weight)");
        }
        int in = lora.in();
        float[] d = lora.delta();
        for (int j = 0; j < mergedNorms.length; j++) {
            float f = magnitude.data()[j] / mergedNorms[j];
            for (int c = j * in; c < (j + 1) * in; c++) {
                weight[c] = weight[c] / f - d[c];
            }
        }
        mergedNorms = null;
    }

    /** {@code ‖W0 + s·B·A‖} per output row, W0 read one row at a time. */
    private static float[] norms(LoraLayer lora, WeightMatrix w0) {
        int in = lora.in();
        int r = lora.rank();
        float[] a = lora.parameters().get(0).data();
        float[] b = lora.parameters().get(1).data();
        float[] row = new float[in];
        float[] ba = new float[in];
        float[] norms = new float[lora.out()];
        for (int j = 0; j < norms.length; j++) {
            w0.copyRow(j, row, 0);
            Arrays.fill(ba, 0f);
            for (int k = 0; k < r; k++) {
                Ops.axpy(b[j * r + k], a, k * in, ba, 0, in);
            }
            double sum = 0;
            for (int c = 0; c < in; c++) {
                float v = row[c] + lora.scale() * ba[c];
                sum += (double) v * v;
            }
            norms[j] = (float) Math.sqrt(sum);
        }
        return norms;
    }

    private float[] factors(WeightMatrix w0) {
        return factors(norms(lora, w0));
    }

    /** {@code g = m / ‖V‖}. */
    private float[] factors(float[] norms) {
        float[] g = new float[norms.length];
        for (int j = 0; j < g.length; j++) {
            g[j] = magnitude.data()[j] / norms[j];
        }
        return g;
    }

    /** {@code y += (g − 1)·z + g·l} per output column. */
    private void combine(float[] y, float[] z, float[] l, float[] g, int m) {
        int out = g.length;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < out; j++) {
                int k = i * out + j;
                y[k] += (g[j] - 1) * z[k] + g[j] * l[k];
            }
        }
    }

    /** {@code dm += Σ_rows dy·(z + l)/‖V‖}. */
    private void magnitudeGrad(float[] dy, float[] z, float[] l, float[] norms, int m) {
        int out = norms.length;
        float[] gm = magnitude.grad();
        for (int j = 0; j < out; j++) {
            double sum = 0;
            for (int i = 0; i < m; i++) {
                int k = i * out + j;
                sum += (double) dy[k] * (z[k] + l[k]);
            }
            gm[j] += (float) (sum / norms[j]);
        }
    }

    /** PEFT's {@code base_result}: the inner output without its bias. */
    private static float[] baseResult(float[] y0, float[] bias, int m) {
        float[] z = y0.clone();
        if (bias != null) {
            int n = bias.length;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    z[i * n + j] -= bias[j];
                }
            }
        }
        return z;
    }

    private static float[] product(float[] x, int m, WeightMatrix w) {
        float[] z = new float[m * w.rows()];
        MatMul.matmulTransposed(x, m, w, z);
        return z;
    }

    /** {@code (g + shift) ⊙ dy} per output column. */
    private static float[] scaled(float[] dy, float[] g, float shift, int m) {
        int out = g.length;
        float[] s = new float[m * out];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < out; j++) {
                s[i * out + j] = (g[j] + shift) * dy[i * out + j];
            }
        }
        return s;
    }
}
