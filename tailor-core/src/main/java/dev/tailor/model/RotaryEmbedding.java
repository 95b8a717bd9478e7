package dev.tailor.model;

import dev.tailor.tensor.Ops;

/**
 * Rotary position embeddings of a model in the Hugging Face "rotate half" layout: dimension i of a head pairs
 * with dimension i + headDim/2 and both rotate by {@code pos · invFreq[i]} (tables from {@link RopeTables}, with
 * the config's {@code rope_scaling} applied).
 */
public final class RotaryEmbedding {
    private final int headDim;
    private final RopeTables tables;
    private final float[] negSin;

    /** Tables for positions {@code [0, maxPositions)}. */
    public RotaryEmbedding(int headDim, double theta, RopeScaling scaling, int maxPositions) {
        this.headDim = headDim;
        this.tables = RopeTables.build(RopeTables.inverseFrequencies(headDim, theta, scaling), maxPositions);
        this.negSin = tables.sin().clone();
        for (int i = 0; i < negSin.length; i++) {
            negSin[i] = -negSin[i];
        }
    }

    /** Number of positions covered. */
    public int maxPositions() {
        return tables.positions();
    }

    /**
     * Rotates {@code nHeads} consecutive heads starting at {@code x[off]} to position {@code pos}:
     * {@code x1' = x1·cos − x2·sin}, {@code x2' = x2·cos + x1·sin}.
     */
    public void apply(float[] x, int off, int nHeads, int pos) {
        Ops.rope(x, off, nHeads, headDim, pos, tables.cos(), tables.sin());
    }

    /**
     * The backward of {@link #apply}: rotates gradients by the opposite angle,
     * {@code dx1 = dy1·cos + dy2·sin}, {@code dx2 = dy2·cos − dy1·sin}.
     */
    public void applyInverse(float[] x, int off, int nHeads, int pos) {
        Ops.rope(x, off, nHeads, headDim, pos, tables.cos(), negSin);
    }
}
