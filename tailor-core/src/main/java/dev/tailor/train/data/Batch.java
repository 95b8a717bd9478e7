package dev.tailor.train.data;

import java.util.List;

/**
 * One optimizer micro-batch: B packed sequences of the same length.
 *
 * @param sequences the rows, in order
 */
public record Batch(List<PackedSequence> sequences) {

    /** Checks the batch is non-empty and all rows have one length. */
    public Batch {
        sequences = List.copyOf(sequences);
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one sequence");
        }
        int len = sequences.getFirst().length();
        for (PackedSequence s : sequences) {
            if (s.length() != len) {
                throw new IllegalArgumentException("batch rows differ in length: " + len + " and " + s.length());
            }
        }
    }

    /** Number of rows (B). */
    public int size() {
        return sequences.size();
    }

    /** Tokens per row (T). */
    public int seqLen() {
        return sequences.getFirst().length();
    }

    /**
     * Tokens carrying a loss over all rows without virtual tokens ({@link PackedSequence#labelledTokens}): the
     * divisor of the batch's mean loss, except with prompt tuning, which also counts each segment's first label.
     */
    public long labelledTokens() {
        long n = 0;
        for (PackedSequence s : sequences) {
            n += s.labelledTokens();
        }
        return n;
    }
}
