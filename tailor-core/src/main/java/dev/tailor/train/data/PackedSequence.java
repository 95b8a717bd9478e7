package dev.tailor.train.data;

import dev.tailor.model.CausalLmLoss;

import java.util.Arrays;

/**
 * One training sequence of exactly {@code seqLen} tokens holding one or more examples back to back, then padding.
 * Each example is a segment: its positions restart at 0 (so RoPE sees it as it would alone) and token t attends
 * only to keys {@code [segmentStarts[t], t]}, never to another example. Labels are aligned with the tokens, each
 * example's as it was encoded, and padding carries {@link CausalLmLoss#IGNORE_INDEX}. The loss shifts them within a
 * segment: token t predicts label t + 1 of its own segment, so no example is asked to predict the first token of the
 * next; a segment's first label is predicted only by virtual tokens in front of it (prompt tuning's, as PEFT counts
 * it).
 *
 * @param tokens        token ids; padding uses the packer's pad id
 * @param labels        loss targets aligned with {@code tokens}
 * @param positions     position of each token within its segment
 * @param segmentStarts for each token, the index where its segment (example, or the padding tail) starts
 */
public record PackedSequence(int[] tokens, int[] labels, int[] positions, int[] segmentStarts) {

    /** Checks the four arrays have one entry per token. */
    public PackedSequence {
        int n = tokens.length;
        if (labels.length != n || positions.length != n || segmentStarts.length != n) {
            throw new IllegalArgumentException("a packed sequence needs one label, position and segment start per "
                    + "token: " + n + " tokens, " + labels.length + " labels, " + positions.length + " positions, "
                    + segmentStarts.length + " segment starts");
        }
    }

    /** Number of tokens ({@code seqLen}). */
    public int length() {
        return tokens.length;
    }

    /**
     * Number of tokens carrying a loss without virtual tokens: labelled and not the first of their segment (prompt
     * tuning also predicts a segment's first label).
     */
    public int labelledTokens() {
        int n = 0;
        for (int t = 0; t < labels.length; t++) {
            if (labels[t] != CausalLmLoss.IGNORE_INDEX && segmentStarts[t] != t) {
                n++;
            }
        }
        return n;
    }

    /** Whether query {@code query} may attend to key {@code key}: same segment and not in the future. */
    public boolean attends(int query, int key) {
        return key <= query && key >= segmentStarts[query];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PackedSequence p && Arrays.equals(tokens, p.tokens) && Arrays.equals(labels, p.labels)
                && Arrays.equals(positions, p.positions) && Arrays.equals(segmentStarts, p.segmentStarts);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(tokens) * 31 + Arrays.hashCode(labels);
    }

    @Override
    public String toString() {
        return "PackedSequence[" + tokens.length + " tokens, " + labelledTokens() + " labelled]";
    }
}
