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
     * @param q     [T, heads·hd]
     * @param k     [T, kvHeads·hd]
     * @param v     [T, kvHeads·hd]
     * @param probs [heads, T, T], written (zero outside the mask)
     * @param out   [T, heads·hd], written
     */
    void forward(float[] q, float[] k, float[] v, int[] segmentStarts, int n, float[] probs, float[] out) {
        Parallel.parallelFor(heads, h -> {
            int g = h / (heads / kvHeads);
            float[] qh = gather(q, n, heads, h);
            float[] kg = gather(k, n, kvHeads, g);
            float[] vg = gather(v, n, kvHeads, g);
            int pOff = h * n * n;
            float[] s = new float[n * n];
            MatMul.matmulTransposed(qh, n, WeightMatrix.of(kg, n, headDim), s);
            for (int t = 0; t < n; t++) {
                int from = segmentStarts[t];
                int row = t * n;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = from; j <= t; j++) {
                    s[row + j] *= scale;
                    max = Math.max(max, s[row + j]);
                }
                float sum = 0f;
                for (int j = from; j <= t; j++) {
                    float e = (float) Math.exp(s[row + j] - max);
                    s[row + j] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                Arrays.fill(s, row, row + from, 0f);
                for (int j = from; j <= t; j++) {
                    s[row + j] *= inv;
                }
                Arrays.fill(s, row + t + 1, row + n, 0f);
            }
            System.arraycopy(s, 0, probs, pOff, n * n);
            float[] oh = new float[n * headDim];
            MatMulNN.matmul(s, 0, n, n, vg, 0, headDim, oh, 0);
            scatter(oh, n, heads, h, out);
        });
    }

    /**
     * From {@code dOut [T, heads·hd]} and the saved q, k, v and probabilities, writes dq, dk and dv (overwritten);
     * dk and dv sum the query heads that share a KV head.
     */
    void backward(float[] dOut, float[] q, float[] k, float[] v, float[] probs, int n, float[] dq, float[] dk,
                  float[] dv) {
        int group = heads / kvHeads;
        float[][] dkHead = new float[heads][];
        float[][] dvHead = new float[heads][];
        Parallel.parallelFor(heads, h -> {
            int g = h / group;
            float[] qh = gather(q, n, heads, h);
            float[] kg = gather(k, n, kvHeads, g);
            float[] vg = gather(v, n, kvHeads, g);
            float[] doh = gather(dOut, n, heads, h);
            float[] p = Arrays.copyOfRange(probs, h * n * n, (h + 1) * n * n);
            // dP = dO·Vᵀ  [T, T]
            float[] dp = new float[n * n];
            MatMul.matmulTransposed(doh, n, WeightMatrix.of(vg, n, headDim), dp);
            // dS = P ⊙ (dP − rowsum(P ⊙ dP)), then the scale of S
            for (int t = 0; t < n; t++) {
                int row = t * n;
                float dot = 0f;
                for (int j = 0; j <= t; j++) {
                    dot += p[row + j] * dp[row + j];
                }
                for (int j = 0; j < n; j++) {
                    dp[row + j] = p[row + j] * (dp[row + j] - dot) * scale;
                }
            }
            // dQ_h = dS·K_g ; dK_g += dSᵀ·Q_h ; dV_g += Pᵀ·dO_h
            float[] dqh = new float[n * headDim];
            MatMulNN.matmul(dp, 0, n, n, kg, 0, headDim, dqh, 0);
            scatter(dqh, n, heads, h, dq);
            dkHead[h] = new float[n * headDim];
            dvHead[h] = new float[n * headDim];
            LinearBackward.weightGrad(dp, qh, n, n, headDim, dkHead[h]);
            LinearBackward.weightGrad(p, doh, n, n, headDim, dvHead[h]);
        });
        Arrays.fill(dk, 0, n * kvHeads * headDim, 0f);
        Arrays.fill(dv, 0, n * kvHeads * headDim, 0f);
        for (int h = 0; h < heads; h++) {
            int g = h / group;
            addScatter(dkHead[h], n, kvHeads, g, dk);
            addScatter(dvHead[h], n, kvHeads, g, dv);
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

    private void addScatter(float[] src, int n, int count, int h, float[] dst) {
        int width = count * headDim;
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < headDim; i++) {
                dst[t * width + h * headDim + i] += src[t * headDim + i];
            }
        }
    }
}
