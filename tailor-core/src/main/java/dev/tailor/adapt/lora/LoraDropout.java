package dev.tailor.adapt.lora;

/**
 * LoRA's dropout on the adapter's input in training ({@code lora_dropout}, as {@code torch.nn.Dropout}: each value
 * kept with probability {@code 1 − p} and scaled by {@code 1/(1 − p)}), with a mask that is a pure function of a
 * seed (one per site), the training pass and the element's row and column. So forward, backward and a gradient
 * checkpointing recompute use the same mask without storing it, and a resumed run draws the same masks again.
 */
final class LoraDropout {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private LoraDropout() {
    }

    /**
     * {@code v [m, width]} with the mask of ({@code seed}, {@code generation}) applied: a new array, dropped values
     * zero, kept ones times {@code 1/(1 − p)}.
     */
    static float[] apply(float[] v, int m, int width, double p, long seed, long generation) {
        float scale = (float) (1.0 / (1.0 - p));
        long stream = mix(mix(seed) + generation * GOLDEN);
        float[] out = new float[m * width];
        for (int i = 0; i < m * width; i++) {
            if (uniform(stream, i) >= p) {
                out[i] = v[i] * scale;
            }
        }
        return out;
    }

    /** A uniform double in [0, 1) for one element of one stream. */
    private static double uniform(long stream, long index) {
        return (mix(stream + (index + 1) * GOLDEN) >>> 11) * 0x1.0p-53;
    }

    /** SplitMix64's finaliser: a bijective mix of 64 bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
