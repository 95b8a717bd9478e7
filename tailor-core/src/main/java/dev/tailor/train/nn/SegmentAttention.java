package dev.tailor.train.nn;

import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.MatMulNN;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.WeightMatrix;

import java.util.Arrays;

/**
 * Causal grouped-query attention over one packed sequence, where token t attends to keys
 * {@code [segmentStarts[t], t]} only, with its backward. Per query head h (KV head {@code h / group}):
 * {@code S = Q_h·K_gᵀ·scale} masked, {@code P = softmax(S)}, {@code O_h = P·V_g}; the probabilities P are saved.
 *
 * <p>With a {@link Prefix} (prefix tuning), its keys and values come first: every token also attends to all of them,
 * so the key axis has {@code prefix + n} columns; the backward adds their gradients into the prefix's gradient.
 */
final class SegmentAttention {
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;

    SegmentAttention(int heads, int kvHeads, int headDim) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * Keys and values every token attends to before its own context, read in place from rows
     * {@code data[p·width + keyOffset …]} and {@code data[p·width + valueOffset …]} ({@code [length, kvHeads·hd]}
     * each); their gradients go to the same places of {@code grad} (null when not needed).
     */
    record Prefix(float[] data, float[] grad, int width, int keyOffset, int valueOffset, int length) {
    }

    /**
     * @param q      [T, heads·hd]
     * @param k      [T, kvHeads·hd]
     * @param v      [T, kvHeads·hd]
     * @param prefix keys and values before the sequence's, or null
     * @param probs  [heads, T, prefix + T], written (zero outside the mask)
     * @param out    [T, heads·hd], written
     */
    void forward(float[] q, float[] k, float[] v, Prefix prefix, int[] segmentStarts, int n, float[] probs,
                 float[] out) {
        int pre = prefix == null ? 0 : prefix.length();
        int m = pre + n;
        Parallel.parallelFor(heads, h -> {
            int g = h / (heads / kvHeads);
            float[] qh = gather(q, n, heads, h);
            float[] kg = withPrefix(gather(k, n, kvHeads, g), prefix, g, true);
            float[] vg = withPrefix(gather(v, n, kvHeads, g), prefix, g, false);
            int pOff = h * n * m;
            float[] s = new float[n * m];
            MatMul.matmulTransposed(qh, n, WeightMatrix.of(kg, m, headDim), s);
            for (int t = 0; t < n; t++) {
                int from = pre + segmentStarts[t];
                int to = pre + t;
                int row = t * m;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < pre; j++) {
                    s[row + j] *= scale;
                    max = Math.max(max, s[row + j]);
                }
                for (int j = from; j <= to; j++) {
                    s[row + j] *= scale;
                    max = Math.max(max, s[row + j]);
                }
                float sum = 0f;
                for (int j = 0; j < pre; j++) {
                    float e = (float) Math.exp(s[row + j] - max);
                    s[row + j] = e;
                    sum += e;
                }
                for (int j = from; j <= to; j++) {
                    float e = (float) Math.exp(s[row + j] - max);
                    s[row + j] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                for (int j = 0; j < pre; j++) {
                    s[row + j] *= inv;
                }
                Arrays.fill(s, row + pre, row + from, 0f);
                for (int j = from; j <= to; j++) {
                    s[row + j] *= inv;
                }
                Arrays.fill(s, row + to + 1, row + m, 0f);
            }
            System.arraycopy(s, 0, probs, pOff, n * m);
            float[] oh = new float[n * headDim];
            MatMulNN.matmul(s, 0, n, m, vg, 0, headDim, oh, 0);
            scatter(oh, n, heads, h, out);
        });
    }

    /** KV head {@code g}'s prefix keys (or values) stacked above the sequence's {@code [n, hd]} rows. */
    private float[] withPrefix(float[] rows, Prefix prefix, int g, boolean keys) {
        if (prefix == null) {
            return rows;
        }
        int pre = prefix.length();
        float[] out = new float[pre * headDim + rows.length];
        int offset = (keys ? prefix.keyOffset() : prefix.valueOffset()) + g * headDim;
        for (int p = 0; p < pre; p++) {
            System.arraycopy(prefix.data(), p * prefix.width() + offset, out, p * headDim, headDim);
        }
        System.arraycopy(rows, 0, out, pre * headDim, rows.length);
        return out;
    }

    /**
     * From {@code dOut [T, heads·hd]} and the saved q, k, v and probabilities, writes dq, dk and dv (overwritten);
     * dk and dv sum the query heads that share a KV head. With a prefix (the one of the forward), its key and
     * value gradients are added into {@code prefix.grad()}.
     */
    void backward(float[] dOut, float[] q, float[] k, float[] v, Prefix prefix, float[] probs, int n, float[] dq,
                  float[] dk, float[] dv) {
        int group = heads / kvHeads;
        int pre = prefix == null ? 0 : prefix.length();
        int m = pre + n;
        float[][] dkHead = new float[heads][];
        float[][] dvHead = new float[heads][];
        Parallel.parallelFor(heads, h -> {
            int g = h / group;
            float[] qh = gather(q, n, heads, h);
            float[] kg = withPrefix(gather(k, n, kvHeads, g), prefix, g, true);
            float[] vg = withPrefix(gather(v, n, kvHeads, g), prefix, g, false);
            float[] doh = gather(dOut, n, heads, h);
            float[] p = Arrays.copyOfRange(probs, h * n * m, (h + 1) * n * m);
            // dP = dO·Vᵀ  [T, prefix + T]
            float[] dp = new float[n * m];
            MatMul.matmulTransposed(doh, n, WeightMatrix.of(vg, m, headDim), dp);
            // dS = P ⊙ (dP − rowsum(P ⊙ dP)), then the scale of S
            for (int t = 0; t < n; t++) {
                int row = t * m;
                float dot = 0f;
                for (int j = 0; j <= pre + t; j++) {
                    dot += p[row + j] * dp[row + j];
                }
                for (int j = 0; j < m; j++) {
                    dp[row + j] = p[row + j] * (dp[row + j] - dot) * scale;
                }
            }
            // dQ_h = dS·K_g ; dK_g += dSᵀ·Q_h ; dV_g += Pᵀ·dO_h
            float[] dqh = new float[n * headDim];
            MatMulNN.matmul(dp, 0, n, m, kg, 0, headDim, dqh, 0);
            scatter(dqh, n, heads, h, dq);
            dkHead[h] = new float[m * headDim];
            dvHead[h] = new float[m * headDim];
            LinearBackward.weightGrad(dp, qh, n, m, headDim, dkHead[h]);
            LinearBackward.weightGrad(p, doh, n, m, headDim, dvHead[h]);
        });
        Arrays.fill(dk, 0, n * kvHeads * headDim, 0f);
        Arrays.fill(dv, 0, n * kvHeads * headDim, 0f);
        for (int h = 0; h < heads; h++) {
            int g = h / group;
            addScatter(dkHead[h], pre, n, kvHeads, g, dk);
            addScatter(dvHead[h], pre, n, kvHeads, g, dv);
            if (prefix != null && prefix.grad() != null) {
                addPrefixGrad(dkHead[h], prefix, prefix.keyOffset() + g * headDim);
                addPrefixGrad(dvHead[h], prefix, prefix.valueOffset() + g * headDim);
            }
        }
    }

    /** Adds rows {@code [0, prefix)} of a head's key or value gradient into the prefix's gradient at {@code offset}. */
    private void addPrefixGrad(float[] src, Prefix prefix, int offset) {
        float[] grad = prefix.grad();
        for (int p = 0; p < prefix.length(); p++) {
            int dst = p * prefix.width() + offset;
            for (int i = 0; i < headDim; i++) {
                grad[dst + i] += src[p * headDim + i];
            }
        }
    }

    /** Head {@code h} of rows laid out {@code [T, count·hd]}, as a contiguous {@code [T, hd]} matrix. */
    private float[] gather(float[] x, int n, int count, int h) {
        float[] out = new float[n * headDim];
        int width = count * headDim;
        for (int t = 0; t < n; t++) {
            System.arraycopy(x, t * width + h * headDim, out, t * headDim, headDim);
        }
        return out;
    }

    private void scatter(float[] src, int n, int count, int h, float[] dst) {
        int width = count * headDim;
        for (int t = 0; t < n; t++) {
            System.arraycopy(src, t * headDim, dst, t * width + h * headDim, headDim);
        }
    }

    /** Adds rows {@code [skip, skip + n)} of {@code src [·, hd]} into head {@code h} of {@code dst [n, count·hd]}. */
    private void addScatter(float[] src, int skip, int n, int count, int h, float[] dst) {
        int width = count * headDim;
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < headDim; i++) {
                dst[t * width + h * headDim + i] += src[(skip + t) * headDim + i];
            }
        }
    }
}
