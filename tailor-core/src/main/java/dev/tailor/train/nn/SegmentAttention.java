package dev.tailor.train.nn;

import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.VectorMath;
import dev.tailor.tensor.WeightMatrix;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention over one packed sequence, where token t attends to keys
 * {@code [segmentStarts[t], t]} only, with its backward. Per query head h (KV head {@code h / group}):
 * {@code S = Q_h·K_gᵀ·scale} masked, {@code P = softmax(S)}, {@code O_h = P·V_g}; the probabilities P are saved.
 *
 * <p>The queries go in blocks of {@link #BLOCK} rows, and a block's products stop at its last key: causality makes
 * every later column zero, so the work is about half of the full square. Forward tasks are (head, block) pairs,
 * largest first; backward tasks are heads, since a head's blocks all add into its key and value gradients.
 *
 * <p>With a {@link Prefix} (prefix tuning), its keys and values come first: every token also attends to all of them,
 * so the key axis has {@code prefix + n} columns; the backward adds their gradients into the prefix's gradient.
 */
final class SegmentAttention {
    /** Query rows per block. */
    static final int BLOCK = 64;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

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
     * @param probs  [heads, T, prefix + T]: row t written up to its block's last key (zero outside the mask
     *               there); the columns past it are left as they were and never read
     * @param out    [T, heads·hd], written
     */
    void forward(float[] q, float[] k, float[] v, Prefix prefix, int[] segmentStarts, int n, float[] probs,
                 float[] out) {
        int pre = prefix == null ? 0 : prefix.length();
        int m = pre + n;
        int blocks = ceilDiv(n, BLOCK);
        Parallel.parallelFor(heads * blocks, task -> {
            int h = task % heads;
            int block = blocks - 1 - task / heads;
            int g = h / (heads / kvHeads);
            int t0 = block * BLOCK;
            int t1 = Math.min(n, t0 + BLOCK);
            int r = t1 - t0;
            int c = pre + t1;
            float[] s = new float[r * c];
            MatMul.matmulTransposed(rows(q, t0, t1, heads, h), r, WeightMatrix.of(keys(k, prefix, g, t1, true), c,
                    headDim), s);
            for (int i = 0; i < r; i++) {
                softmaxRow(s, i * c, pre, pre + segmentStarts[t0 + i], pre + t0 + i, c);
                System.arraycopy(s, i * c, probs, (h * n + t0 + i) * m, c);
            }
            float[] values = transpose(keys(v, prefix, g, t1, false), c);
            float[] o = new float[r * headDim];
            MatMul.matmulTransposed(s, r, WeightMatrix.of(values, headDim, c), o);
            scatter(o, t0, r, heads, h, out);
        });
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
        int blocks = ceilDiv(n, BLOCK);
        float[][] dkHead = new float[heads][];
        float[][] dvHead = new float[heads][];
        Parallel.parallelFor(heads, h -> {
            int g = h / group;
            dkHead[h] = new float[m * headDim];
            dvHead[h] = new float[m * headDim];
            for (int block = 0; block < blocks; block++) {
                int t0 = block * BLOCK;
                int t1 = Math.min(n, t0 + BLOCK);
                int r = t1 - t0;
                int c = pre + t1;
                float[] kg = keys(k, prefix, g, t1, true);
                float[] vg = keys(v, prefix, g, t1, false);
                float[] qb = rows(q, t0, t1, heads, h);
                float[] dob = rows(dOut, t0, t1, heads, h);
                float[] p = new float[r * c];
                for (int i = 0; i < r; i++) {
                    System.arraycopy(probs, (h * n + t0 + i) * m, p, i * c, c);
                }
                // dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(P ⊙ dP)) times the scale of S
                float[] ds = new float[r * c];
                MatMul.matmulTransposed(dob, r, WeightMatrix.of(vg, c, headDim), ds);
                for (int i = 0; i < r; i++) {
                    softmaxBackwardRow(p, ds, i * c, c);
                }
                // dQ_h = dS·K_g ; dK_g += dSᵀ·Q_h ; dV_g += Pᵀ·dO_h
                float[] dqb = new float[r * headDim];
                MatMul.matmulTransposed(ds, r, WeightMatrix.of(transpose(kg, c),
                        headDim, c), dqb);
                scatter(dqb, t0, r, heads, h, dq);
                LinearBackward.weightGrad(ds, qb, r, c, headDim, dkHead[h]);
                LinearBackward.weightGrad(p, dob, r, c, headDim, dvHead[h]);
            }
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

    /**
     * Scales row {@code s[off, off + c)} and turns it into probabilities over the columns {@code [0, pre)} and
     * {@code [from, to]}, zero elsewhere.
     */
    private void softmaxRow(float[] s, int off, int pre, int from, int to, int c) {
        float max = Math.max(scaleMax(s, off, pre), scaleMax(s, off + from, to + 1 - from));
        float sum = expSum(s, off, pre, max) + expSum(s, off + from, to + 1 - from, max);
        float inv = 1f / sum;
        multiply(s, off, pre, inv);
        Arrays.fill(s, off + pre, off + from, 0f);
        multiply(s, off + from, to + 1 - from, inv);
        Arrays.fill(s, off + to + 1, off + c, 0f);
    }

    /** Multiplies {@code x[off, off + len)} by the scale in place and returns its maximum (−∞ when empty). */
    private float scaleMax(float[] x, int off, int len) {
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector e = FloatVector.fromArray(F, x, off + i).mul(scale);
            e.intoArray(x, off + i);
            vmax = vmax.max(e);
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < len; i++) {
            x[off + i] *= scale;
            max = Math.max(max, x[off + i]);
        }
        return max;
    }

    /** Replaces {@code x[off, off + len)} by {@code exp(x − max)} and returns their sum. */
    private static float expSum(float[] x, int off, int len, float max) {
        FloatVector vsum = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, off + i).sub(max));
            e.intoArray(x, off + i);
            vsum = vsum.add(e);
        }
        float sum = VectorMath.sum(vsum);
        for (; i < len; i++) {
            float e = VectorMath.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        return sum;
    }

    private static void multiply(float[] x, int off, int len, float a) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, off + i).mul(a).intoArray(x, off + i);
        }
        for (; i < len; i++) {
            x[off + i] *= a;
        }
    }

    /** {@code dp[j] = p[j]·(dp[j] − Σ p·dp)·scale} over the row {@code [off, off + c)}; zero where p is. */
    private void softmaxBackwardRow(float[] p, float[] dp, int off, int c) {
        FloatVector vdot = FloatVector.zero(F);
        int bound = F.loopBound(c);
        int j = 0;
        for (; j < bound; j += F.length()) {
            vdot = FloatVector.fromArray(F, p, off + j).fma(FloatVector.fromArray(F, dp, off + j), vdot);
        }
        float dot = VectorMath.sum(vdot);
        for (; j < c; j++) {
            dot += p[off + j] * dp[off + j];
        }
        j = 0;
        for (; j < bound; j += F.length()) {
            FloatVector pv = FloatVector.fromArray(F, p, off + j);
            pv.mul(FloatVector.fromArray(F, dp, off + j).sub(dot)).mul(scale).intoArray(dp, off + j);
        }
        for (; j < c; j++) {
            dp[off + j] = p[off + j] * (dp[off + j] - dot) * scale;
        }
    }

    /**
     * KV head {@code g}'s keys (or values) of positions {@code [0, t1)} as a contiguous {@code [prefix + t1, hd]}
     * matrix, the prefix's rows first.
     */
    private float[] keys(float[] x, Prefix prefix, int g, int t1, boolean isKey) {
        int pre = prefix == null ? 0 : prefix.length();
        float[] out = new float[(pre + t1) * headDim];
        if (prefix != null) {
            int offset = (isKey ? prefix.keyOffset() : prefix.valueOffset()) + g * headDim;
            for (int p = 0; p < pre; p++) {
                System.arraycopy(prefix.data(), p * prefix.width() + offset, out, p * headDim, headDim);
            }
        }
        int width = kvHeads * headDim;
        for (int t = 0; t < t1; t++) {
            System.arraycopy(x, t * width + g * headDim, out, (pre + t) * headDim, headDim);
        }
        return out;
    }

    /** Rows {@code [t0, t1)} of head {@code h} of {@code x [T, count·hd]} as a contiguous {@code [t1 − t0, hd]}. */
    private float[] rows(float[] x, int t0, int t1, int count, int h) {
        float[] out = new float[(t1 - t0) * headDim];
        int width = count * headDim;
        for (int t = t0; t < t1; t++) {
            System.arraycopy(x, t * width + h * headDim, out, (t - t0) * headDim, headDim);
        }
        return out;
    }

    /** {@code [rows, hd]} → {@code [hd, rows]}. */
    private float[] transpose(float[] x, int rows) {
        float[] out = new float[x.length];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < headDim; i++) {
                out[i * rows + r] = x[r * headDim + i];
            }
        }
        return out;
    }

    /** Writes {@code src [r, hd]} into head {@code h} of rows {@code [t0, t0 + r)} of {@code dst [T, count·hd]}. */
    private void scatter(float[] src, int t0, int r, int count, int h, float[] dst) {
        int width = count * headDim;
        for (int i = 0; i < r; i++) {
            System.arraycopy(src, i * headDim, dst, (t0 + i) * width + h * headDim, headDim);
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

    /** Adds rows {@code [skip, skip + n)} of {@code src [·, hd]} into head {@code h} of {@code dst [n, count·hd]}. */
    private void addScatter(float[] src, int skip, int n, int count, int h, float[] dst) {
        int width = count * headDim;
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < headDim; i++) {
                dst[t * width + h * headDim + i] += src[(skip + t) * headDim + i];
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
