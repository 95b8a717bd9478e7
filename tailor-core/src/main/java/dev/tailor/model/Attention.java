package dev.tailor.model;

import dev.tailor.tensor.MatMulNN;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.Scratch;

import java.util.Arrays;

/**
 * Causal grouped-query attention of new query rows against the KV cache, as matrix products per KV head:
 * the {@code group = heads / kvHeads} query heads sharing a KV head are stacked into one matrix
 * {@code Q_g [rows·group, headDim]}, then {@code S = Q_g·K_hᵀ / sqrt(headDim)} (the scale applied to Q_g),
 * masked causally, softmaxed by row, and {@code O = P·V_h}, both on the row-major product ({@link MatMulNN}),
 * reading the head's transposed keys and its values in place in the cache. Work is split into (KV head, block of
 * query rows) tasks across threads; a block only reads the keys its last row can see. A batch of sequences, each
 * with its own cache, runs as one set of tasks.
 */
final class Attention {
    /** Query rows per task: large enough for efficient products, small enough to balance two cores. */
    private static final int BLOCK = 32;
    /**
     * Per-thread work arrays of {@link #block}: a task's stacked queries, scores and outputs. Fresh arrays for every
     * task and layer were most of what decoding allocated (scores grow with the context), and a long prompt's, alive
     * when the young generation was collected, were promoted and piled up in the old one. The scores hold
     * {@code BLOCK · group} rows of the context's length at most.
     */
    private static final ThreadLocal<float[]> QUERIES = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> OUTPUTS = ThreadLocal.withInitial(() -> new float[0]);

    private Attention() {
    }

    /**
     * For each sequence i of a batch, whose rows are {@code [rowStart[i], rowStart[i] + rows[i])} of {@code q} and
     * are stored at positions {@code start[i] …} of {@code caches[i]} (virtual tokens included): for each of its rows
     * t and query head h, attends over its cache's positions {@code [0, start[i] + t]} of KV head {@code h / group}.
     * Each sequence's work depends on its own rows and cache only.
     *
     * @param q   [rows, heads·headDim] after RoPE
     * @param out [rows, heads·headDim]
     */
    static void causal(ModelConfig c, float[] q, KvCache[] caches, int[] rowStart, int[] start, int[] rows, int layer,
                       float[] out) {
        int kvHeads = c.numKvHeads();
        int[] firstTask = new int[caches.length + 1];
        for (int i = 0; i < caches.length; i++) {
            firstTask[i + 1] = firstTask[i] + kvHeads * ((rows[i] + BLOCK - 1) / BLOCK);
        }
        Parallel.parallelFor(firstTask[caches.length], task -> {
            int i = sequenceOf(firstTask, task);
            int local = task - firstTask[i];
            int blocks = (rows[i] + BLOCK - 1) / BLOCK;
            int kvh = local / blocks;
            int from = (local % blocks) * BLOCK;
            block(c, q, rowStart[i], caches[i], layer, start[i], kvh, from, Math.min(rows[i], from + BLOCK), out);
        });
    }

    /** The sequence whose tasks include {@code task}: the last i with {@code firstTask[i] <= task}. */
    private static int sequenceOf(int[] firstTask, int task) {
        int lo = 0;
        int hi = firstTask.length - 2;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (firstTask[mid] <= task) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /**
     * Attention of a sequence's rows {@code [from, to)} (rows {@code rowBase + t} of q and out) for the query heads
     * of KV head {@code kvh}. The stacked queries are padded with zero rows to whole {@link MatMulNN#TILE_ROWS}-row
     * tiles, so a decoding row's few query heads take the products' 4-row tiles, whose eight accumulators keep the
     * multiply-adds flowing, rather than one-row tiles bound by the latency of their two chains; a row's scores and
     * outputs have the same bits either way.
     */
    private static void block(ModelConfig c, float[] q, int rowBase, KvCache cache, int layer, int start, int kvh,
                              int from, int to, float[] out) {
        int hd = c.headDim();
        int group = c.numHeads() / c.numKvHeads();
        int rows = (to - from) * group;
        int padded = (rows + MatMulNN.TILE_ROWS - 1) / MatMulNN.TILE_ROWS * MatMulNN.TILE_ROWS;
        int len = start + to;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] qg = Scratch.floats(QUERIES, padded * hd);
        for (int t = from; t < to; t++) {
            System.arraycopy(q, (rowBase + t) * c.qDim() + kvh * group * hd, qg, (t - from) * group * hd, group * hd);
        }
        for (int i = 0; i < rows * hd; i++) {
            qg[i] *= scale;
        }
        Arrays.fill(qg, rows * hd, padded * hd, 0f);
        float[] scores = Scratch.floats(SCORES, padded * len + MatMulNN.SLACK);
        MatMulNN.matmul(qg, 0, hd, padded, hd, cache.keys(layer), cache.keyOffset(kvh), cache.size(), len, scores, 0,
                len);
        for (int t = from; t < to; t++) {
            int visible = start + t + 1;
            for (int g = 0; g < group; g++) {
                int row = ((t - from) * group + g) * len;
                Ops.softmax(scores, row, visible);
                Arrays.fill(scores, row + visible, row + len, 0f);
            }
        }
        float[] og = Scratch.floats(OUTPUTS, padded * hd);
        MatMulNN.matmul(scores, 0, len, padded, len, cache.values(layer), cache.offset(kvh, 0), hd, hd, og, 0, hd);
        for (int t = from; t < to; t++) {
            System.arraycopy(og, (t - from) * group * hd, out, (rowBase + t) * c.qDim() + kvh * group * hd,
                    group * hd);
        }
    }
}
