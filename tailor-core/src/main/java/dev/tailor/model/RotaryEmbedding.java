package dev.tailor.model;

import dev.tailor.tensor.Ops;

/**
 * Rotary position embeddings of a model in the Hugging Face "rotate half" layout: dimension i of a head pairs
 * with dimension i + headDim/2 and both rotate by {@code pos · invFreq[i]} (tables from {@link RopeTables}, with
 * the config's {@code rope_scaling} applied).
 *
 * <p>The tables cover the positions used so far, not the whole context: they start at {@link #INITIAL_POSITIONS}
 * and double (up to the context length) when a later position is rotated. A long-context model (Llama 3.1's 131,072
 * positions, Qwen2.5-1M's million) then costs its tables only for the tokens it sees; a position's values are the
 * same whatever the tables' size. Growing replaces the tables whole, so threads reading the old ones are unaffected.
 */
public final class RotaryEmbedding {
    /** Positions the tables cover at first. */
    static final int INITIAL_POSITIONS = 4096;

    private final int headDim;
    private final double[] invFreq;
    private final int maxPositions;
    private volatile Tables tables;

    /** The tables, and the negated sines {@link #applyInverse} rotates by. */
    private record Tables(RopeTables rope, float[] negSin) {
    }

    /**
     * Rotations for positions {@code [0, maxPositions)}.
     *
     * @throws IllegalArgumentException if {@code headDim} is not positive and even or {@code maxPositions} is negative
     */
    public RotaryEmbedding(int headDim, double theta, RopeScaling scaling, int maxPositions) {
        if (maxPositions < 0) {
            throw new IllegalArgumentException("a context of " + maxPositions + " positions");
        }
        this.headDim = headDim;
        this.invFreq = RopeTables.inverseFrequencies(headDim, theta, scaling);
        this.maxPositions = maxPositions;
        this.tables = tables(Math.min(maxPositions, INITIAL_POSITIONS));
    }

    /** Number of positions covered: the context length. */
    public int maxPositions() {
        return maxPositions;
    }

    /** Positions the tables hold now (at most {@link #maxPositions()}). */
    int tabulatedPositions() {
        return tables.rope().positions();
    }

    /**
     * Rotates {@code nHeads} consecutive heads starting at {@code x[off]} to position {@code pos}:
     * {@code x1' = x1·cos − x2·sin}, {@code x2' = x2·cos + x1·sin}.
     *
     * @throws IllegalArgumentException if {@code pos} is outside {@code [0, maxPositions)}
     */
    public void apply(float[] x, int off, int nHeads, int pos) {
        Tables t = covering(pos);
        Ops.rope(x, off, nHeads, headDim, pos, t.rope().cos(), t.rope().sin());
    }

    /**
     * The backward of {@link #apply}: rotates gradients by the opposite angle,
     * {@code dx1 = dy1·cos + dy2·sin}, {@code dx2 = dy2·cos − dy1·sin}.
     *
     * @throws IllegalArgumentException if {@code pos} is outside {@code [0, maxPositions)}
     */
    public void applyInverse(float[] x, int off, int nHeads, int pos) {
        Tables t = covering(pos);
        Ops.rope(x, off, nHeads, headDim, pos, t.rope().cos(), t.negSin());
    }

    private Tables covering(int pos) {
        Tables t = tables;
        return pos >= 0 && pos < t.rope().positions() ? t : grow(pos);
    }

    private synchronized Tables grow(int pos) {
        Tables t = tables;
        if (pos >= 0 && pos < t.rope().positions()) {
            return t;
        }
        if (pos < 0 || pos >= maxPositions) {
            throw new IllegalArgumentException("position " + pos + " is outside the context of " + maxPositions
                    + " positions");
        }
        t = tables((int) Math.min(maxPositions, Math.max(pos + 1L, 2L * t.rope().positions())));
        tables = t;
        return t;
    }

    private Tables tables(int positions) {
        RopeTables rope = RopeTables.build(invFreq, positions);
        float[] negSin = rope.sin().clone();
        for (int i = 0; i < negSin.length; i++) {
            negSin[i] = -negSin[i];
        }
        return new Tables(rope, negSin);
    }
}
