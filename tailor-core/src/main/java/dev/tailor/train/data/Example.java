package dev.tailor.train.data;

import dev.tailor.model.CausalLmLoss;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One encoded training example. Labels are aligned with the inputs (the Hugging Face convention): {@code
 * labels[t] == inputIds[t]} where the loss should make the model produce token t, and
 * {@link CausalLmLoss#IGNORE_INDEX} where it should not (prompts, templates, padding). The loss shifts them: the
 * logits at position t - 1 are scored against {@code labels[t]}.
 *
 * @param inputIds token ids
 * @param labels   loss targets, same length as {@code inputIds}
 * @param source   where it came from ({@code file:line}), for messages
 */
public record Example(int[] inputIds, int[] labels, String source) {

    /** Checks that inputs and labels have the same length and every label is its input or ignored. */
    public Example {
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException(source + ": " + inputIds.length + " input ids but " + labels.length
                    + " labels");
        }
        for (int t = 0; t < labels.length; t++) {
            if (labels[t] != CausalLmLoss.IGNORE_INDEX && labels[t] != inputIds[t]) {
                throw new IllegalArgumentException(source + ": label " + labels[t] + " at " + t
                        + " is neither the input id " + inputIds[t] + " nor IGNORE_INDEX");
            }
        }
    }

    /** Number of tokens. */
    public int length() {
        return inputIds.length;
    }

    /** Number of tokens that carry a loss. */
    public int labelledTokens() {
        int n = 0;
        for (int label : labels) {
            if (label != CausalLmLoss.IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }

    /** The first {@code length} tokens and their labels. */
    public Example truncate(int length) {
        return length >= inputIds.length ? this
                : new Example(Arrays.copyOf(inputIds, length), Arrays.copyOf(labels, length), source);
    }

    /**
     * Consecutive pieces of at most {@code length} tokens covering the whole example (the last may be shorter);
     * used for long {@code text} examples in continued pre-training instead of truncating them.
     */
    public List<Example> chunks(int length) {
        if (length <= 0) {
            throw new IllegalArgumentException("chunk length must be positive, got " + length);
        }
        List<Example> pieces = new ArrayList<>(inputIds.length / length + 1);
        for (int from = 0; from < inputIds.length; from += length) {
            int to = Math.min(inputIds.length, from + length);
            pieces.add(new Example(Arrays.copyOfRange(inputIds, from, to), Arrays.copyOfRange(labels, from, to),
                    source));
        }
        return pieces;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && Arrays.equals(inputIds, e.inputIds) && Arrays.equals(labels, e.labels)
                && source.equals(e.source);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(inputIds) + Arrays.hashCode(labels)) + source.hashCode();
    }

    @Override
    public String toString() {
        return "Example[" + source + ", " + inputIds.length + " tokens, " + labelledTokens() + " labelled]";
    }
}
