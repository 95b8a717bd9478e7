package dev.tailor.model;

/**
 * Rotary embedding tables {@code cos[pos][i]}, {@code sin[pos][i]} for {@code i < half}, flattened row-major,
 * computed in float32 the way Hugging Face does: {@code inv_freq} as a float tensor, {@code t · inv_freq} as
 * a float product, then float {@code cos}/{@code sin}.
 *
 * @param positions number of positions (rows)
 * @param half      head dimension / 2 (columns)
 * @param cos       {@code [positions][half]}
 * @param sin       {@code [positions][half]}
 */
public record RopeTables(int positions, int half, float[] cos, float[] sin) {

    /** Validates the table sizes. */
    public RopeTables {
        if (cos.length != (long) positions * half || sin.length != (long) positions * half) {
            throw new IllegalArgumentException("rope tables for [" + positions + ", " + half + "] need "
                    + (long) positions * half + " entries, got cos " + cos.length + ", sin " + sin.length);
        }
    }

    /**
     * HF's default inverse frequencies {@code 1 / theta^(2i/headDim)} for {@code i < headDim/2}, evaluated in
     * float32 (as {@code torch.arange(0, d, 2).float() / d}), then adjusted by {@code scaling} when non-null.
     */
    public static double[] inverseFrequencies(int headDim, double theta, RopeScaling scaling) {
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be positive and even, got " + headDim);
        }
        double[] inv = new double[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            float pow = (float) Math.pow((float) theta, exponent);
            inv[i] = 1f / pow;
        }
        if (scaling != null) {
            scaling.apply(inv);
        }
        return inv;
    }

    /**
     * Tables for positions {@code [0, positions)} from (possibly scaled) inverse frequencies.
     *
     * @throws IllegalArgumentException if the tables would not fit in an array
     */
    public static RopeTables build(double[] invFreq, int positions) {
        int half = invFreq.length;
        if (positions < 0 || (long) positions * half > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("rope tables for " + positions + " positions of " + half
                    + " frequencies do not fit in an array");
        }
        float[] cos = new float[positions * half];
        float[] sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * (float) invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        return new RopeTables(positions, half, cos, sin);
    }
}
