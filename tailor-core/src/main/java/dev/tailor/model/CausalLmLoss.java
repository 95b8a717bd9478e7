package dev.tailor.model;

/**
 * The causal-LM cross-entropy of Hugging Face: logits at position t predict the label at t + 1; labels equal to
 * {@link #IGNORE_INDEX} carry no loss; the loss is the mean over the counted tokens.
 */
public final class CausalLmLoss {
    /** Labels with this value are not predicted. */
    public static final int IGNORE_INDEX = -100;

    private CausalLmLoss() {
    }

    /**
     * Negative log-likelihood of {@code target} under the row {@code logits[off .. off+vocab)}:
     * {@code logsumexp(row) − row[target]}, computed in double for stability.
     */
    public static double nll(float[] logits, int off, int vocab, int target) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        return Math.log(sum) + max - logits[off + target];
    }

    /**
     * Sum of the NLL over the shifted, counted tokens of one sequence and how many were counted.
     *
     * @param logits [seq, vocab]
     * @param labels [seq]; {@code labels[t + 1]} is the target of row t
     */
    public static Total total(float[] logits, int vocab, int[] labels) {
        double sum = 0;
        long count = 0;
        for (int t = 0; t + 1 < labels.length; t++) {
            int target = labels[t + 1];
            if (target == IGNORE_INDEX) {
                continue;
            }
            if (target < 0 || target >= vocab) {
                throw new IllegalArgumentException("label " + target + " at position " + (t + 1)
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
            sum += nll(logits, t * vocab, vocab, target);
            count++;
        }
        return new Total(sum, count);
    }

    /**
     * A running sum of negative log-likelihoods.
     *
     * @param nllSum sum over counted tokens
     * @param tokens number of counted tokens
     */
    public record Total(double nllSum, long tokens) {
        /** Adds two totals. */
        public Total plus(Total other) {
            return new Total(nllSum + other.nllSum, tokens + other.tokens);
        }

        /** Mean NLL (the loss), NaN when nothing was counted. */
        public double mean() {
            return tokens == 0 ? Double.NaN : nllSum / tokens;
        }
    }
}
