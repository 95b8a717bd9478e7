package dev.tailor.train.nn;

import dev.tailor.tensor.MatMulNN;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.Scratch;
import dev.tailor.tensor.Transpose;
import dev.tailor.tensor.VectorMath;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention over one packed sequence, where token t attends to keys
 * {@code [segmentStarts[t], t]} only, with its backward. Per query head h (KV head {@code h / group}):
 * {@code S = Q_h·K_gᵀ·scale} masked, {@code P = softmax(S)}, {@code O_h = P·V_g}. The probabilities are not saved:
 * the backward computes each block of them again from Q and K as the forward did (the same products, the same bits),
 * so a pass keeps {@code O(T)} of attention per block instead of the {@code heads·T²} square.
 *
 * <p>The queries go in blocks of {@link #BLOCK} rows, and a block's products stop at its last key: causality makes
 * every later column zero, so the work is about half of the full square. Forward tasks are (head, block) pairs,
 * largest first; backward tasks are heads, since a head's blocks all add into its key and value gradients.
 * Every product is a row-major {@link MatMulNN} over strided blocks: a KV head's keys (forward) or values (backward)
 * are transposed once per call, a block's scores become its probabilities in place in a scratch block, and a head's
 * queries, outputs and their gradients are read and written in place.
 *
 * <p>With a {@link Prefix} (prefix tuning), its keys and values come first: every token also attends to all of them,
 * so the key axis has {@code prefix + n} columns; the backward adds their gradients into the prefix's gradient.
 *
 * <p>The gathered keys and values, their transposes and the backward's per-head blocks and gradients live in arrays
 * this object keeps for the next call (they only grow), the forward's blocks of probabilities in per-thread scratch:
 * fresh ones were three quarters of a LoRA step's garbage. So one instance serves one caller at a time, as its
 * model's workspace does.
 */
final class SegmentAttention {
    /** Query rows per block. */
    static final int BLOCK = 64;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Per thread: the forward's block of probabilities, {@code [BLOCK, m]} (its tasks are heads' blocks). */
    private static final ThreadLocal<float[]> FORWARD_PROBS = ThreadLocal.withInitial(() -> new float[0]);

    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;
    /** Per KV head: gathered keys or values {@code [m, hd]}, and three arrays for what the call keeps of them. */
    private final float[][] gathered;
    private final float[][] kvFirst;
    private final float[][] kvSecond;
    private final float[][] kvThird;
    /**
     * Per query head: transposed key and value gradients {@code [hd, m]}, a block's probabilities and {@code dS}
     * ({@code [BLOCK, m]}), a transposed Q or dO block.
     */
    private final float[][] dkT;
    private final float[][] dvT;
    private final float[][] probs;
    private final float[][] ds;
    private final float[][] blockT;

    SegmentAttention(int heads, int kvHeads, int headDim) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.gathered = new float[kvHeads][0];
        this.kvFirst = new float[kvHeads][0];
        this.kvSecond = new float[kvHeads][0];
        this.kvThird = new float[kvHeads][0];
        this.dkT = new float[heads][0];
        this.dvT = new float[heads][0];
        this.probs = new float[heads][0];
        this.ds = new float[heads][0];
        this.blockT = new float[heads][0];
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
     * @param out    [T, heads·hd], written
     */
    void forward(float[] q, float[] k, float[] v, Prefix prefix, int[] segmentStarts, int n, float[] out) {
        int pre = prefix == null ? 0 : prefix.length();
        int m = pre + n;
        int qDim = heads * headDim;
        float[][] keysT = kvFirst;
        float[][] values = kvSecond;
        Parallel.parallelFor(kvHeads, g -> {
            transpose(keys(k, prefix, g, n, true, gathered, g), m, keysT, g);
            keys(v, prefix, g, n, false, values, g);
        });
        int blocks = ceilDiv(n, BLOCK);
        Parallel.parallelFor(heads * blocks, task -> {
            int h = task % heads;
            int block = blocks - 1 - task / heads;
            int g = h / (heads / kvHeads);
            int t0 = block * BLOCK;
            int r = Math.min(n, t0 + BLOCK) - t0;
            int c = pre + t0 + r;
            float[] p = Scratch.floats(FORWARD_PROBS, r * m);
            blockProbs(q, t0 * qDim + h * headDim, qDim, keysT[g], segmentStarts, pre, t0, r, m, p);
            MatMulNN.matmul(p, 0, m, r, c, values[g], 0, headDim, headDim, out, t0 * qDim + h * headDim, qDim);
        });
    }

    /**
     * Rows {@code [t0, t0 + r)}'s probabilities {@code p [r, m]} over their keys {@code [0, pre + t0 + r)}: the scores
     * of the query block at {@code q[at]} (rows {@code ld} apart) against the transposed keys {@code keysT [hd, m]},
     * scaled, masked and normalized per row; the columns past the block's last key are left as they were and never
     * read. The forward and the backward both make them here, so the backward's are the forward's bits.
     */
    private void blockProbs(float[] q, int at, int ld, float[] keysT, int[] segmentStarts, int pre, int t0, int r,
                            int m, float[] p) {
        int c = pre + t0 + r;
        MatMulNN.matmul(q, at, ld, r, headDim, keysT, 0, m, c, p, 0, m);
        for (int i = 0; i < r; i++) {
            softmaxRow(p, i * m, pre, pre + segmentStarts[t0 + i], pre + t0 + i, c);
        }
    }

    /**
     * From {@code dOut [T, heads·hd]} and the forward's q, k, v and segments, writes dq, dk and dv (overwritten);
     * dk and dv sum the query heads that share a KV head. With a prefix (the one of the forward), its key and
     * value gradients are added into {@code prefix.grad()}.
     *
     * <p>Per head the key and value gradients are accumulated transposed, {@code [hd, prefix + T]}, as
     * {@code Q_blockᵀ·dS} and {@code dO_blockᵀ·P}: row-major products over the block's rows.
     */
    void backward(float[] dOut, float[] q, float[] k, float[] v, Prefix prefix, int[] segmentStarts, int n,
                  float[] dq, float[] dk, float[] dv) {
        int group = heads / kvHeads;
        int pre = prefix == null ? 0 : prefix.length();
        int m = pre + n;
        int qDim = heads * headDim;
        int blocks = ceilDiv(n, BLOCK);
        float[][] keysG = kvFirst;
        float[][] valuesT = kvSecond;
        float[][] keysT = kvThird;
        Parallel.parallelFor(kvHeads, g -> {
            transpose(keys(k, prefix, g, n, true, keysG, g), m, keysT, g);
            transpose(keys(v, prefix, g, n, false, gathered, g), m, valuesT, g);
        });
        Parallel.parallelFor(heads, h -> {
            int g = h / group;
            float[] dkTh = zeroed(dkT, h, headDim * m);
            float[] dvTh = zeroed(dvT, h, headDim * m);
            float[] ph = grown(probs, h, Math.min(BLOCK, n) * m);
            float[] dsh = grown(ds, h, Math.min(BLOCK, n) * m);
            float[] blockTh = grown(blockT, h, headDim * BLOCK);
            for (int block = 0; block < blocks; block++) {
                int t0 = block * BLOCK;
                int r = Math.min(n, t0 + BLOCK) - t0;
                int c = pre + t0 + r;
                int at = t0 * qDim + h * headDim;
                blockProbs(q, at, qDim, keysT[g], segmentStarts, pre, t0, r, m, ph);
                // dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(P ⊙ dP)) times the scale of S
                MatMulNN.matmul(dOut, at, qDim, r, headDim, valuesT[g], 0, m, c, dsh, 0, c);
                for (int i = 0; i < r; i++) {
                    softmaxBackwardRow(ph, i * m, dsh, i * c, c);
                }
                // dQ_h = dS·K_g ; dK_gᵀ += Q_hᵀ·dS ; dV_gᵀ += dO_hᵀ·P
                MatMulNN.matmul(dsh, 0, c, r, c, keysG[g], 0, headDim, headDim, dq, at, qDim);
                transposeBlock(q, at, qDim, r, blockTh);
                MatMulNN.matmulAdd(blockTh, 0, r, headDim, r, dsh, 0, c, c, dkTh, 0, m);
                transposeBlock(dOut, at, qDim, r, blockTh);
                MatMulNN.matmulAdd(blockTh, 0, r, headDim, r, ph, 0, m, c, dvTh, 0, m);
            }
        });
        int kvDim = kvHeads * headDim;
        Parallel.parallelFor(kvHeads, g -> {
            for (int h = g * group; h < (g + 1) * group; h++) {
                boolean first = h == g * group;
                scatterTransposed(dkT[h], pre, m, n, kvDim, g, dk, first);
                scatterTransposed(dvT[h], pre, m, n, kvDim, g, dv, first);
                if (prefix != null && prefix.grad() != null) {
                    addPrefixGrad(dkT[h], m, prefix, prefix.keyOffset() + g * headDim);
                    addPrefixGrad(dvT[h], m, prefix, prefix.valueOffset() + g * headDim);
                }
            }
        });
    }

    /**
     * Scales row {@code s[off, off + c)} and turns it into probabilities over the columns {@code [0, pre)} and
     * {@code [from, to]}, zero elsewhere.
     */
    private void softmaxRow(float[] s, int off, int pre, int from, int to, int c) {
        float max = Math.max(scaleMax(s, off, pre), scaleMax(s, off + from, to + 1 - from));
        float sum = VectorMath.expShiftSum(s, off, pre, max)
                + VectorMath.expShiftSum(s, off + from, to + 1 - from, max);
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

    private static void multiply(float[] x, int off, int len, float a) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, off + i).mul(a).intoArray(x, off + i);
        }
        for (; i < len; i++) {
            x[off + i] *= a;
        }
    }

    /**
     * {@code dp[dOff + j] = p[pOff + j]·(dp[dOff + j] − Σ p·dp)·scale} for j in {@code [0, c)}; zero where p is.
     */
    private void softmaxBackwardRow(float[] p, int pOff, float[] dp, int dOff, int c) {
        FloatVector vdot = FloatVector.zero(F);
        int bound = F.loopBound(c);
        int j = 0;
        for (; j < bound; j += F.length()) {
            vdot = FloatVector.fromArray(F, p, pOff + j).fma(FloatVector.fromArray(F, dp, dOff + j), vdot);
        }
        float dot = VectorMath.sum(vdot);
        for (; j < c; j++) {
            dot += p[pOff + j] * dp[dOff + j];
        }
        j = 0;
        for (; j < bound; j += F.length()) {
            FloatVector pv = FloatVector.fromArray(F, p, pOff + j);
            pv.mul(FloatVector.fromArray(F, dp, dOff + j).sub(dot)).mul(scale).intoArray(dp, dOff + j);
        }
        for (; j < c; j++) {
            dp[dOff + j] = p[pOff + j] * (dp[dOff + j] - dot) * scale;
        }
    }

    /**
     * KV head {@code g}'s keys (or values) of positions {@code [0, t1)} as a contiguous {@code [prefix + t1, hd]}
     * matrix, the prefix's rows first, in {@code into[slot]} (grown when too short).
     */
    private float[] keys(float[] x, Prefix prefix, int g, int t1, boolean isKey, float[][] into, int slot) {
        int pre = prefix == null ? 0 : prefix.length();
        float[] out = grown(into, slot, (pre + t1) * headDim);
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

    /** {@code [rows, hd]} → {@code [hd, rows]} in {@code into[slot]} (grown when too short). */
    private float[] transpose(float[] x, int rows, float[][] into, int slot) {
        float[] out = grown(into, slot, rows * headDim);
        transposeBlock(x, 0, headDim, rows, out);
        return out;
    }

    /** {@code arrays[i]}, replaced by a new array when shorter than {@code length}. */
    private static float[] grown(float[][] arrays, int i, int length) {
        if (arrays[i].length < length) {
            arrays[i] = new float[length];
        }
        return arrays[i];
    }

    /** {@link #grown} with its first {@code length} values zero. */
    private static float[] zeroed(float[][] arrays, int i, int length) {
        float[] a = grown(arrays, i, length);
        Arrays.fill(a, 0, length, 0f);
        return a;
    }

    /** The {@code [r, hd]} block at {@code x[at]} (rows {@code ld} apart), transposed into {@code out [hd, r]}. */
    private void transposeBlock(float[] x, int at, int ld, int r, float[] out) {
        Transpose.transpose(x, at, ld, r, headDim, out, 0, r, false);
    }

    /**
     * Writes (when {@code first}, else adds) columns {@code [pre, pre + n)} of a head's transposed gradient
     * {@code src [hd, m]} into KV head {@code g}'s columns of {@code dst [n, width]}.
     */
    private void scatterTransposed(float[] src, int pre, int m, int n, int width, int g, float[] dst,
                                   boolean first) {
        Transpose.transpose(src, pre, m, headDim, n, dst, g * headDim, width, !first);
    }

    /**
     * Adds columns {@code [0, prefix)} of a head's transposed key or value gradient {@code src [hd, m]} into the
     * prefix's gradient at {@code offset}.
     */
    private void addPrefixGrad(float[] src, int m, Prefix prefix, int offset) {
        float[] grad = prefix.grad();
        for (int p = 0; p < prefix.length(); p++) {
            int dst = p * prefix.width() + offset;
            for (int i = 0; i < headDim; i++) {
                grad[dst + i] += src[i * m + p];
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
