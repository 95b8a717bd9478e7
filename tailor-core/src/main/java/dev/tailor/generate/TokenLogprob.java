package dev.tailor.generate;

import java.util.Arrays;

/**
 * The log-probability of a generated token under the model (log-softmax of the raw logits, before temperature,
 * penalties or filtering, as vLLM reports them), with the most likely alternatives at that step.
 *
 * @param tokenId      the generated id
 * @param logprob      its log-probability
 * @param topIds       the most likely ids at that step, most likely first (as many as asked for)
 * @param topLogprobs  their log-probabilities
 */
public record TokenLogprob(int tokenId, float logprob, int[] topIds, float[] topLogprobs) {

    /** A token with no log-probability: a prompt's first, which nothing before it predicts (NaN, no alternatives). */
    static TokenLogprob unscored(int tokenId) {
        return new TokenLogprob(tokenId, Float.NaN, new int[0], new float[0]);
    }

    /** Whether this token has a log-probability (every generated token and every prompt token but the first). */
    public boolean scored() {
        return !Float.isNaN(logprob);
    }

    /** The log-probabilities of {@code logits} for {@code tokenId} and its {@code top} most likely alternatives. */
    static TokenLogprob of(float[] logits, int tokenId, int top) {
        return of(logits, 0, logits.length, tokenId, top);
    }

    /**
     * The same for the logits {@code all[from, from + vocab)}, one row of a chunk's {@code [tokens, vocab]}; the ids
     * are relative to the row.
     */
    static TokenLogprob of(float[] all, int from, int vocab, int tokenId, int top) {
        float[] logits = from == 0 && vocab == all.length ? all : Arrays.copyOfRange(all, from, from + vocab);
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        float logZ = (float) (max + Math.log(sum));
        int k = Math.min(top, logits.length);
        int[] ids = new int[k];
        float[] lps = new float[k];
        for (int j = 0; j < k; j++) {
            ids[j] = -1;
        }
        for (int i = 0; i < logits.length; i++) {
            float v = logits[i];
            int pos = k;
            while (pos > 0 && (ids[pos - 1] < 0 || logits[ids[pos - 1]] < v)) {
                pos--;
            }
            if (pos < k) {
                System.arraycopy(ids, pos, ids, pos + 1, k - pos - 1);
                ids[pos] = i;
            }
        }
        for (int j = 0; j < k; j++) {
            lps[j] = logits[ids[j]] - logZ;
        }
        return new TokenLogprob(tokenId, logits[tokenId] - logZ, ids, lps);
    }
}
