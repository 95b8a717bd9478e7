package dev.tailor.model;

/** Causal grouped-query attention of new query rows against the KV cache. */
final class Attention {
    private Attention() {
    }

    /**
     * For each new row t (at position {@code start + t}) and query head h, attends over cache positions
     * {@code [0, start + t]} of KV head {@code h / (heads / kvHeads)}:
     * {@code out = softmax(q·Kᵀ / sqrt(headDim)) · V}.
     *
     * @param q      [n, heads·headDim] after RoPE
     * @param keys   [capacity, kvHeads·headDim]
     * @param values [capacity, kvHeads·headDim]
     * @param out    [n, heads·headDim]
     */
    static void causal(ModelConfig c, float[] q, float[] keys, float[] values, int start, int n, float[] out) {
        int hd = c.headDim();
        int qDim = c.qDim();
        int kvDim = c.kvDim();
        int group = c.numHeads() / c.numKvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] scores = new float[start + n];
        for (int t = 0; t < n; t++) {
            int len = start + t + 1;
            for (int h = 0; h < c.numHeads(); h++) {
                int qOff = t * qDim + h * hd;
                int kvOff = (h / group) * hd;
                for (int p = 0; p < len; p++) {
                    scores[p] = BlockMath.dot(q, qOff, keys, p * kvDim + kvOff, hd) * scale;
                }
                BlockMath.softmax(scores, 0, len);
                int oOff = t * qDim + h * hd;
                java.util.Arrays.fill(out, oOff, oOff + hd, 0f);
                for (int p = 0; p < len; p++) {
                    BlockMath.axpy(scores[p], values, p * kvDim + kvOff, out, oOff, hd);
                }
            }
        }
    }
}
