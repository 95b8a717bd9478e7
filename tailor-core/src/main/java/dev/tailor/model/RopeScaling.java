package dev.tailor.model;

/**
 * {@code rope_scaling} of a Hugging Face config: how rotary frequencies are stretched for long context.
 *
 * @param type                          {@code llama3} or {@code linear}
 * @param factor                        the scaling factor
 * @param lowFreqFactor                 llama3 only
 * @param highFreqFactor                llama3 only
 * @param originalMaxPositionEmbeddings llama3 only
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {

    /**
     * Applies the scaling to the unscaled inverse frequencies {@code θ^(-2i/d)} in place, exactly as
     * transformers' {@code _compute_llama3_parameters} and {@code _compute_linear_scaling_rope_parameters}.
     */
    public void apply(double[] invFreq) {
        switch (type) {
            case "linear" -> {
                for (int i = 0; i < invFreq.length; i++) {
                    invFreq[i] /= factor;
                }
            }
            case "llama3" -> {
                double lowFreqWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
                double highFreqWavelen = originalMaxPositionEmbeddings / highFreqFactor;
                for (int i = 0; i < invFreq.length; i++) {
                    double wavelen = 2 * Math.PI / invFreq[i];
                    if (wavelen > lowFreqWavelen) {
                        invFreq[i] = invFreq[i] / factor;
                    } else if (wavelen >= highFreqWavelen) {
                        double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor)
                                / (highFreqFactor - lowFreqFactor);
                        invFreq[i] = (1 - smooth) * invFreq[i] / factor + smooth * invFreq[i];
                    }
                }
            }
            default -> throw new IllegalStateException("unsupported rope_scaling type " + type);
        }
    }
}
