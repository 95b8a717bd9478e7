package dev.tailor.tensor;

/**
 * Rows of X quantized to 8 bits per block of 32, as llama.cpp quantizes the activations it multiplies with
 * block-quantized weights (its {@code block_q8_0}): per block, the scale {@code d = amax / 127} and the values
 * {@code q = round(x / d)}, rounded half away from zero, so {@code |q| ≤ 127}. The scale stays a float (llama.cpp
 * rounds it to F16). Each block also keeps {@code -8·d·Σq}, the term a Q4_0 block's offset of 8 adds to its sum
 * ({@link IntegerGemv}). A block of zeros has scale 0; a block with an infinite or NaN value has a NaN scale, so the
 * products it enters are NaN, as the float products would be non-finite.
 */
final class ActivationBlocks {
    /** The largest |q|. */
    static final int Q_MAX = 127;

    /** The quantized values, {@code [m, k]} row-major. */
    final short[] q;
    /** Per block of 32 ({@code [m, k / 32]}), its scale. */
    final float[] d;
    /** Per block, {@code -8·d·Σq}. */
    final float[] offset;

    private ActivationBlocks(int values, int blocks) {
        q = new short[values];
        d = new float[blocks];
        offset = new float[blocks];
    }

    /**
     * The {@code m} rows of {@code k} floats at {@code x[xOff]} quantized block by block.
     *
     * @throws IllegalArgumentException if {@code k} is not a multiple of 32
     */
    static ActivationBlocks of(float[] x, int xOff, int m, int k) {
        if (k % Quantization.QK != 0) {
            throw new IllegalArgumentException("8-bit activation blocks need a multiple of 32 columns, got " + k);
        }
        ActivationBlocks a = new ActivationBlocks(m * k, m * k / Quantization.QK);
        for (int i = 0; i < m; i++) {
            for (int b = 0; b < k / Quantization.QK; b++) {
                a.quantize(x, xOff + i * k + b * Quantization.QK, i * k + b * Quantization.QK,
                        (i * k + b * Quantization.QK) / Quantization.QK);
            }
        }
        return a;
    }

    private void quantize(float[] x, int from, int to, int block) {
        float amax = 0f;
        for (int c = 0; c < Quantization.QK; c++) {
            amax = Math.max(amax, Math.abs(x[from + c]));
        }
        float scale = amax / Q_MAX;
        float inverse = scale == 0f ? 0f : 1f / scale;
        int sum = 0;
        for (int c = 0; c < Quantization.QK; c++) {
            int v = (int) Quantization.roundHalfAway(x[from + c] * inverse);
            q[to + c] = (short) v;
            sum += v;
        }
        d[block] = scale;
        offset[block] = -8f * scale * sum;
    }
}
