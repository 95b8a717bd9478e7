package dev.tailor.model;

import dev.tailor.tensor.DType;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.MatMulNN;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Causal grouped-query attention of new query rows against the KV cache, as matrix products per KV head:
 * the {@code group = heads / kvHeads} query heads sharing a KV head are stacked into one matrix
 * {@code Q_g [rows·group, headDim]}, then {@code S = Q_g·K_hᵀ / sqrt(headDim)} (the scale applied to Q_g),
 * masked causally, softmaxed by row, and {@code O = P·V_h} (on the row-major product, reading the head's values
 * in place in the cache). Work is split into (KV head, block of query rows) tasks across threads; a block
 * only reads the keys its last row can see.
 */
final class Attention {
    /** Query rows per task: large enough for efficient products, small enough to balance two cores. */
    private static final int BLOCK = 32;

    private Attention() {
    }

    /**
     * For each new row t (stored at position {@code start + t}, virtual tokens included) and query head h,
     * attends over cache positions {@code [0, start + t]} of KV head {@code h / group}.
     *
     * @param q   [n, heads·headDim] after RoPE
     * @param out [n, heads·headDim]
     */
    static void causal(ModelConfig c, float[] q, KvCache cache, int layer, int start, int n, float[] out) {
        int blocks = (n + BLOCK - 1) / BLOCK;
        Parallel.parallelFor(c.numKvHeads() * blocks, task -> {
            int kvh = task / blocks;
            int from = (task % blocks) * BLOCK;
            block(c, q, cache, layer, start, kvh, from, Math.min(n, from + BLOCK), out);
        });
    }

    /** Attention of rows {@code [from, to)} for the query heads of KV head {@code kvh}. */
    private static void block(ModelConfig c, float[] q, KvCache cache, int layer, int start, int kvh, int from,
                              int to, float[] out) {
        int hd = c.headDim();
        int group = c.numHeads() / c.numKvHeads();
        int rows = (to - from) * group;
        int len = start + to;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] qg = new float[rows * hd];
        for (int t = from; t < to; t++) {
            System.arraycopy(q, t * c.qDim() + kvh * group * hd, qg, (t - from) * group * hd, group * hd);
        }
        for (int i = 0; i < qg.length; i++) {
            qg[i] *= scale;
        }
        float[] scores = new float[rows * len];
        MatMul.matmulTransposed(qg, rows, headMatrix(cache.keys(layer), cache.offset(kvh, 0), len, hd), scores);
        for (int t = from; t < to; t++) {
            int visible = start + t + 1;
            for (int g = 0; g < group; g++) {
                int row = ((t - from) * group + g) * len;
                Ops.softmax(scores, row, visible);
                Arrays.fill(scores, row + visible, row + len, 0f);
            }
        }
        float[] og = new float[rows * hd];
        MatMulNN.matmul(scores, 0, len, rows, len, cache.values(layer), cache.offset(kvh, 0), hd, hd, og, 0, hd);
        for (int t = from; t < to; t++) {
            System.arraycopy(og, (t - from) * group * hd, out, t * c.qDim() + kvh * group * hd, group * hd);
        }
    }

    private static WeightMatrix headMatrix(float[] data, int offset, int rows, int cols) {
        MemorySegment seg = MemorySegment.ofArray(data).asSlice((long) offset * Float.BYTES,
                (long) rows * cols * Float.BYTES);
        return new WeightMatrix(seg, DType.F32, rows, cols);
    }
}
