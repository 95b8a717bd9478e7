package dev.tailor.train.data;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.tokenizer.BpeTokenizer;
import dev.tailor.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Packs examples into sequences of exactly {@code seqLen} tokens, greedily in order: an example goes into the
 * current sequence if it fits, else the current sequence is closed (its tail padded) and a new one begun. An
 * example longer than {@code seqLen} is truncated to {@code seqLen} and counted.
 *
 * <p>Why pack rather than pad each example to the longest: fine-tuning examples vary in length by orders of
 * magnitude, and a padded batch spends the forward and backward pass on pad tokens that carry no loss. Packing
 * fills each row with real tokens; the per-token positions and segment starts of {@link PackedSequence} keep
 * the examples independent, so the result equals training on each example alone.
 */
public final class SequencePacker {
    private final int seqLen;
    private final int padId;

    /**
     * A packer.
     *
     * @param seqLen tokens per sequence
     * @param padId  the id padding is written with (it carries no loss, so any valid id will do)
     */
    public SequencePacker(int seqLen, int padId) {
        if (seqLen < 2) {
            throw new IllegalArgumentException("sequence length must be at least 2, got " + seqLen);
        }
        if (padId < 0) {
            throw new IllegalArgumentException("pad id must be a valid token id, got " + padId);
        }
        this.seqLen = seqLen;
        this.padId = padId;
    }

    /** The tokenizer's pad id if it has one, else its first EOS id, else 0. */
    public static int padIdOf(Tokenizer tokenizer) {
        if (tokenizer instanceof BpeTokenizer bpe && bpe.padId() >= 0) {
            return bpe.padId();
        }
        return tokenizer.eosIds().isEmpty() ? 0 : tokenizer.eosIds().getFirst();
    }

    /** Tokens per sequence. */
    public int seqLen() {
        return seqLen;
    }

    /**
     * The result of packing.
     *
     * @param sequences        the packed sequences
     * @param examples         examples packed
     * @param truncated        examples longer than {@code seqLen}, cut to it
     * @param truncatedTokens  tokens cut off those examples
     * @param paddingTokens    pad tokens written
     */
    public record Packing(List<PackedSequence> sequences, int examples, int truncated, long truncatedTokens,
                          long paddingTokens) {
    }

    /** Packs {@code examples} in order. */
    public Packing pack(List<Example> examples) {
        List<PackedSequence> out = new ArrayList<>();
        Row row = new Row();
        int truncated = 0;
        long truncatedTokens = 0;
        long padding = 0;
        for (Example example : examples) {
            if (example.length() > seqLen) {
                truncated++;
                truncatedTokens += example.length() - seqLen;
                example = example.truncate(seqLen);
            }
            if (example.length() == 0) {
                continue;
            }
            if (row.size + example.length() > seqLen) {
                padding += seqLen - row.size;
                out.add(row.close());
                row = new Row();
            }
            row.add(example);
        }
        if (row.size > 0) {
            padding += seqLen - row.size;
            out.add(row.close());
        }
        return new Packing(out, examples.size(), truncated, truncatedTokens, padding);
    }

    /** The sequence being filled. */
    private final class Row {
        final int[] tokens = new int[seqLen];
        final int[] labels = new int[seqLen];
        final int[] positions = new int[seqLen];
        final int[] starts = new int[seqLen];
        int size;

        void add(Example e) {
            int n = e.length();
            System.arraycopy(e.inputIds(), 0, tokens, size, n);
            System.arraycopy(e.labels(), 0, labels, size, n);
            for (int t = 0; t < n; t++) {
                positions[size + t] = t;
                starts[size + t] = size;
            }
            size += n;
        }

        PackedSequence close() {
            Arrays.fill(tokens, size, seqLen, padId);
            Arrays.fill(labels, size, seqLen, CausalLmLoss.IGNORE_INDEX);
            for (int t = size; t < seqLen; t++) {
                positions[t] = t - size;
                starts[t] = size;
            }
            return new PackedSequence(tokens, labels, positions, starts);
        }
    }
}
