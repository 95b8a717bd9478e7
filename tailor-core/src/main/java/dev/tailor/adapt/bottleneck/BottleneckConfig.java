package dev.tailor.adapt.bottleneck;

import dev.tailor.adapt.InvalidOptionException;
/**
 * The options of new bottleneck adapters, named as AdapterHub's {@code BnConfig}.
 *
 * @param architecture    {@code seq_bn} or {@code double_seq_bn}
 * @param reductionFactor hidden size / bottleneck size
 * @param nonLinearity    the bottleneck's non-linearity
 */
public record BottleneckConfig(Architecture architecture, double reductionFactor, NonLinearity nonLinearity) {

    /**
     * Checks the options.
     *
     * @throws IllegalArgumentException when the reduction factor is not positive
     */
    public BottleneckConfig {
        if (!(reductionFactor > 0) || Double.isInfinite(reductionFactor)) {
            throw new InvalidOptionException("reduction_factor", "reduction_factor must be a positive number, got " + reductionFactor);
        }
    }

    /** AdapterHub's defaults of {@code architecture}, each overridden when not null. */
    public static BottleneckConfig defaults(Architecture architecture, Double reductionFactor, String nonLinearity) {
        return new BottleneckConfig(architecture,
                reductionFactor == null ? Architecture.DEFAULT_REDUCTION_FACTOR : reductionFactor,
                nonLinearity == null ? architecture.defaultNonLinearity() : NonLinearity.parse(nonLinearity));
    }

    /** AdapterHub's bottleneck size: {@code max(1, int(hidden // reduction_factor))}. */
    public int bottleneck(int hidden) {
        return Math.max(1, (int) Math.floor(hidden / reductionFactor));
    }
}
