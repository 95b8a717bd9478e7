package dev.tailor.model;

import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.MatMulNN;
import dev.tailor.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Causal grouped-query attention of new query rows against the KV cache, as matrix products per KV head:
 * the {@code group = heads / kvHeads} query heads sharing a KV head are stacked into one matrix
 * {@code Q_g [n·group, headDim]}, then {@code S = Q_g·K_hᵀ / sqrt(headDim)}, masked causally, softmaxed by
 * row, and {@code O = P·V_h}.
 */
final class Attention {
    private Attention() {
    }

    /**
     * For each new row t (at position {@code start + t}) and query head h, attends over cache positions
     * {@code [0, start + t]} of KV head {@code h / group}.
     *
     * @param q   [n, heads·headDim] after RoPE
     * @param out [n, heads·headDim]
     */
    static void causal(ModelConfig c, float[] q, KvCache cache, int layer, int start, int n, float[] out) {
        int hd = c.headDim();
        int group = c.numHeads() / c.numKvHeads();
        int len = start + n;
        int rows = n * group;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] qg = new float[rows * hd];
        float[] scores = new float[rows * len];
        float[] og = new float[rows * hd];
        for (int kvh = 0; kvh < c.numKvHeads(); kvh++) {
            gather(q, c, kvh, n, qg);
            WeightMatrix keys = headMatrix(cache.keys(layer), cache.offset(kvh, 0), len, hd);
            MatMul.matmulTransposed(qg, rows, keys, scores);
            for (int t = 0; t < n; t++) {
                int visible = start + t + 1;
                for (int g = 0; g < group; g++) {
                    int row = (t * group + g) * len;
                    for (int p = 0; p < visible; p++) {
                        scores[row + p] *= scale;
                    }
                    BlockMath.softmax(scores, row, visible);
                    Arrays.fill(scores, row + visible, row + len, 0f);
                }
            }
            MatMulNN.matmul(scores, 0, rows, len, cache.values(layer), cache.offset(kvh, 0), hd, og, 0);
            scatter(og, c, kvh, n, out);
        }
    }

    /** Rows of the query heads {@code [kvh·group, (kvh+1)·group)} of every token, stacked token-major. */
    private static void gather(float[] q, ModelConfig c, int kvh, int n, float[] qg) {
        int hd = c.headDim();
        int group = c.numHeads() / c.numKvHeads();
        for (int t = 0; t < n; t++) {
            System.arraycopy(q, t * c.qDim() + kvh * group * hd, qg, t * group * hd, group * hd);
        }
    }

    private static void scatter(float[] og, ModelConfig c, int kvh, int n, float[] out) {
        int hd = c.headDim();
        int group = c.numHeads() / c.numKvHeads();
        for (int t = 0; t < n; t++) {
            System.arraycopy(og, t * group * hd, out, t * c.qDim() + kvh * group * hd, group * hd);
        }
    }

    private static WeightMatrix headMatrix(float[] data, int offset, int rows, int cols) {
        MemorySegment seg = MemorySegment.ofArray(data).asSlice((long) offset * Float.BYTES, (long) rows * cols * Float.BYTES);
        return new WeightMatrix(seg, DType.F32, rows, cols);
    }
}
