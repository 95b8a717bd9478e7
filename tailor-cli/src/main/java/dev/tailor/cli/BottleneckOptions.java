package dev.tailor.cli;

import dev.tailor.adapt.bottleneck.Architecture;
import dev.tailor.adapt.bottleneck.BottleneckModel;
import dev.tailor.adapt.bottleneck.BottleneckSettings;
import dev.tailor.model.ModelConfig;
import picocli.CommandLine.Option;

/** The bottleneck options of {@code tailor train --method seq_bn|double_seq_bn}, named after AdapterHub's. */
public final class BottleneckOptions {

    @Option(names = "--reduction-factor",
            description = "seq_bn, double_seq_bn, compacter: hidden size / bottleneck size (default 16; compacter 32)")
    Double reductionFactor;

    @Option(names = "--non-linearity",
            description = "seq_bn, double_seq_bn: relu, swish (silu), gelu or tanh (default relu for seq_bn, swish for "
                    + "double_seq_bn)")
    String nonLinearity;

    /**
     * The reduction factor for Compacter, whose PHM layers need whole sizes: null when not given.
     *
     * @throws IllegalArgumentException when it is not a whole number
     */
    Integer wholeReductionFactor() {
        if (reductionFactor == null) {
            return null;
        }
        if (reductionFactor != Math.rint(reductionFactor) || reductionFactor < 1) {
            throw new IllegalArgumentException("--reduction-factor must be a whole number >= 1 for Compacter, got "
                    + reductionFactor);
        }
        return reductionFactor.intValue();
    }

    /** Fresh bottleneck adapters of {@code architecture} ({@code seq_bn} or {@code double_seq_bn}) for {@code config}. */
    BottleneckModel create(String architecture, ModelConfig config, long seed) {
        return BottleneckModel.create(BottleneckSettings.defaults(Architecture.parse(architecture), reductionFactor,
                nonLinearity), config, seed);
    }
}
