package dev.tailor.train.nn;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.tensor.Parallel;

/**
 * The causal-LM cross-entropy over logits {@code [n, vocab]}: row t predicts {@code labels[t + 1]}, rows whose
 * target is {@link CausalLmLoss#IGNORE_INDEX} (and the last row) carry no loss. The logits are replaced in place by
 * {@code scale · (softmax − onehot)} (zero for rows without loss).
 */
final class CrossEntropy {
    private CrossEntropy() {
    }

    static CausalLmLoss.Total lossAndGrad(float[] logits, int n, int vocab, int[] labels, float scale) {
        double[] nll = new double[n];
        boolean[] counted = new boolean[n];
        Parallel.parallelForRange(n, (from, to) -> {
            for (int t = from; t < to; t++) {
                int target = t + 1 < n ? labels[t + 1] : CausalLmLoss.IGNORE_INDEX;
                int off = t * vocab;
                if (target == CausalLmLoss.IGNORE_INDEX) {
                    java.util.Arrays.fill(logits, off, off + vocab, 0f);
                    continue;
                }
                if (target < 0 || target >= vocab) {
                    throw new IllegalArgumentException("label " + target + " at position " + (t + 1)
                            + " is outside the vocabulary [0, " + vocab + ")");
                }
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < vocab; i++) {
                    max = Math.max(max, logits[off + i]);
                }
                double sum = 0;
                for (int i = 0; i < vocab; i++) {
                    sum += Math.exp(logits[off + i] - max);
                }
                nll[t] = Math.log(sum) + max - logits[off + target];
                counted[t] = true;
                float inv = (float) (1.0 / sum);
                for (int i = 0; i < vocab; i++) {
                    logits[off + i] = scale * (float) Math.exp(logits[off + i] - max) * inv;
                }
                logits[off + target] -= scale;
            }
        });
        double total = 0;
        long count = 0;
        for (int t = 0; t < n; t++) {
            if (counted[t]) {
                total += nll[t];
                count++;
            }
        }
        return new CausalLmLoss.Total(total, count);
    }
}
