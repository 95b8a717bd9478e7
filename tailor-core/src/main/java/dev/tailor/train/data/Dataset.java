package dev.tailor.train.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A dataset file, encoded.
 *
 * @param format   the format its lines were read as
 * @param examples the examples, in file order
 * @param labels   for {@link DatasetFormat#CLASSIFICATION}: the labels that occur, sorted; else empty
 * @param skipped  one message (naming file, line and field) per line skipped as bad; empty unless bad lines
 *                 were allowed to be skipped
 */
public record Dataset(DatasetFormat format, List<Example> examples, Set<String> labels, List<String> skipped) {

    /** Copies the lists. */
    public Dataset {
        examples = List.copyOf(examples);
        labels = Collections.unmodifiableSortedSet(new TreeSet<>(labels));
        skipped = List.copyOf(skipped);
    }

    /** Number of lines skipped as bad. */
    public int skippedLines() {
        return skipped.size();
    }

    /**
     * For the {@code text} format, each example longer than {@code seqLen} cut into consecutive pieces of
     * {@code seqLen} tokens (the last shorter), which continued pre-training on long documents (a book, long
     * speeches) expects rather than losing all but the first {@code seqLen} tokens to truncation; each piece
     * trains as its own example. Other formats are returned unchanged: cutting a prompt from its answer would
     * break them, so the packer truncates those instead.
     */
    public Dataset chunkedTexts(int seqLen) {
        if (format != DatasetFormat.TEXT) {
            return this;
        }
        List<Example> pieces = new ArrayList<>(examples.size());
        for (Example e : examples) {
            pieces.addAll(e.chunks(seqLen));
        }
        return new Dataset(format, pieces, labels, skipped);
    }

    /** Total tokens over all examples. */
    public long tokens() {
        long n = 0;
        for (Example e : examples) {
            n += e.length();
        }
        return n;
    }
}
