package dev.tailor.model;

/**
 * Cos/sin tables of rotary position embeddings in the Hugging Face "rotate half" layout: dimension i of a
 * head pairs with dimension i + headDim/2 and both rotate by {@code pos · invFreq[i]}.
 * Computed as transformers does: {@code invFreq[i] = 1 / θ^(2i/d)} in float32, scaled by {@code rope_scaling},
 * then {@code cos(pos·invFreq)} and {@code sin(pos·invFreq)} of the float32 product.
 */
public final class RotaryEmbedding {
    private final int half;
    private final int maxPositions;
    private final float[] cos;
    private final float[] sin;

    /** Tables for positions {@code [0, maxPositions)}. */
    public RotaryEmbedding(int headDim, double theta, RopeScaling scaling, int maxPositions) {
        this.half = headDim / 2;
        this.maxPositions = maxPositions;
        double[] invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            invFreq[i] = 1.0f / (float) Math.pow(theta, exponent);
        }
        if (scaling != null) {
            scaling.apply(invFreq);
        }
        cos = new float[maxPositions * half];
        sin = new float[maxPositions * half];
        for (int p = 0; p < maxPositions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * (float) invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /** Number of positions covered. */
    public int maxPositions() {
        return maxPositions;
    }

    /**
     * Rotates {@code nHeads} consecutive heads of width {@code 2·half} starting at {@code x[off]} to position
     * {@code pos}: {@code x1' = x1·cos − x2·sin}, {@code x2' = x2·cos + x1·sin}.
     */
    public void apply(float[] x, int off, int nHeads, int pos) {
        rotate(x, off, nHeads, pos, 1f);
    }

    /**
     * The backward of {@link #apply}: rotates gradients by the opposite angle,
     * {@code dx1 = dy1·cos + dy2·sin}, {@code dx2 = dy2·cos − dy1·sin}.
     */
    public void applyInverse(float[] x, int off, int nHeads, int pos) {
        rotate(x, off, nHeads, pos, -1f);
    }

    private void rotate(float[] x, int off, int nHeads, int pos, float direction) {
        int headDim = 2 * half;
        int t = pos * half;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float x1 = x[base + i];
                float x2 = x[base + half + i];
                float c = cos[t + i];
                float s = direction * sin[t + i];
                x[base + i] = x1 * c - x2 * s;
                x[base + half + i] = x2 * c + x1 * s;
            }
        }
    }
}
