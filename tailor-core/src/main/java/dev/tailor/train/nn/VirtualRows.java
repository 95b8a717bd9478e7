package dev.tailor.train.nn;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.train.data.PackedSequence;

/**
 * How a packed sequence runs through the blocks when an adapter puts P virtual tokens in front of every segment
 * (each example, and the padding tail, as PEFT does per batch row), with the real tokens at positions {@code P …}
 * of their segment.
 *
 * <p>Prompt tuning inserts P rows before each segment's first token (positions {@code 0 … P−1}, ignored labels, as
 * PEFT prefixes the labels) whose input is the prompt embeddings, so the last of them predicts the segment's first
 * label; prefix tuning adds no rows (its keys and values enter the attention), only shifts the positions by P.
 */
final class VirtualRows {
    private final PackedSequence rows;
    /** Per real token, its row in {@link #rows}. */
    private final int[] realRow;
    /** Per segment, its first virtual row (prompt tuning), else empty. */
    private final int[] virtualStart;
    private final int virtual;

    private VirtualRows(PackedSequence rows, int[] realRow, int[] virtualStart, int virtual) {
        this.rows = rows;
        this.realRow = realRow;
        this.virtualStart = virtualStart;
        this.virtual = virtual;
    }

    /** The rows of prompt tuning: P virtual rows inserted before each segment. */
    static VirtualRows prompt(PackedSequence seq, int virtual, int maxPositions) {
        checkPositions(seq, virtual, maxPositions);
        int n = seq.length();
        int[] starts = seq.segmentStarts();
        int segments = 0;
        for (int t = 0; t < n; t++) {
            if (starts[t] == t) {
                segments++;
            }
        }
        int m = n + segments * virtual;
        int[] tokens = new int[m];
        int[] labels = new int[m];
        int[] positions = new int[m];
        int[] rowStarts = new int[m];
        int[] realRow = new int[n];
        int[] virtualStart = new int[segments];
        int row = 0;
        int segment = -1;
        int segmentRow = 0;
        for (int t = 0; t < n; t++) {
            if (starts[t] == t) {
                segment++;
                segmentRow = row;
                virtualStart[segment] = row;
                for (int p = 0; p < virtual; p++) {
                    labels[row] = CausalLmLoss.IGNORE_INDEX;
                    positions[row] = p;
                    rowStarts[row] = segmentRow;
                    row++;
                }
            }
            tokens[row] = seq.tokens()[t];
            labels[row] = seq.labels()[t];
            positions[row] = virtual + seq.positions()[t];
            rowStarts[row] = segmentRow;
            realRow[t] = row;
            row++;
        }
        return new VirtualRows(new PackedSequence(tokens, labels, positions, rowStarts), realRow, virtualStart,
                virtual);
    }

    /** The rows of prefix tuning: the sequence itself at positions shifted by P. */
    static VirtualRows prefix(PackedSequence seq, int virtual, int maxPositions) {
        checkPositions(seq, virtual, maxPositions);
        int n = seq.length();
        int[] positions = new int[n];
        int[] realRow = new int[n];
        for (int t = 0; t < n; t++) {
            positions[t] = virtual + seq.positions()[t];
            realRow[t] = t;
        }
        return new VirtualRows(new PackedSequence(seq.tokens(), seq.labels(), positions, seq.segmentStarts()),
                realRow, new int[0], virtual);
    }

    private static void checkPositions(PackedSequence seq, int virtual, int maxPositions) {
        for (int t = 0; t < seq.length(); t++) {
            if (virtual + seq.positions()[t] >= maxPositions) {
                throw new IllegalArgumentException("position " + seq.positions()[t] + " after " + virtual
                        + " virtual tokens exceeds the context length " + maxPositions);
            }
        }
    }

    /** The sequence the blocks run on. */
    PackedSequence rows() {
        return rows;
    }

    /** The block input {@code [rows, d]}: the token embeddings {@code [n, d]} with the prompt's rows inserted. */
    float[] input(float[] tokenEmbeddings, float[] prompt, int d) {
        if (virtualStart.length == 0) {
            return tokenEmbeddings;
        }
        float[] x = new float[rows.length() * d];
        for (int start : virtualStart) {
            System.arraycopy(prompt, 0, x, start * d, virtual * d);
        }
        for (int t = 0; t < realRow.length; t++) {
            System.arraycopy(tokenEmbeddings, t * d, x, realRow[t] * d, d);
        }
        return x;
    }

    /** The real tokens' rows {@code [n, d]} of {@code x [rows, d]}. */
    float[] real(float[] x, int d) {
        if (virtualStart.length == 0) {
            return x;
        }
        float[] out = new float[realRow.length * d];
        for (int t = 0; t < realRow.length; t++) {
            System.arraycopy(x, realRow[t] * d, out, t * d, d);
        }
        return out;
    }

    /** Row of real token {@code t}. */
    int realRow(int t) {
        return realRow[t];
    }

    /** Adds the gradient of every segment's virtual rows of {@code dx [rows, d]} into {@code grad [P, d]}. */
    void addPromptGrad(float[] dx, float[] grad, int d) {
        for (int start : virtualStart) {
            for (int i = 0; i < virtual * d; i++) {
                grad[i] += dx[start * d + i];
            }
        }
    }
}
