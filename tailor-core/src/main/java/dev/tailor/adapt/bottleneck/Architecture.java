package dev.tailor.adapt.bottleneck;

import dev.tailor.model.site.SublayerSite;

import java.util.List;

/** Where bottleneck adapters go, named as AdapterHub's configs, with their defaults. */
public enum Architecture {
    /** {@code SeqBnConfig} (Pfeiffer): after the feed-forward block only; reduction factor 16, ReLU. */
    SEQ_BN("seq_bn", List.of(SublayerSite.MLP), NonLinearity.RELU),
    /** {@code DoubleSeqBnConfig} (Houlsby): after attention and after the feed-forward block; 16, swish. */
    DOUBLE_SEQ_BN("double_seq_bn", List.of(SublayerSite.SELF_ATTN, SublayerSite.MLP), NonLinearity.SWISH);

    /** AdapterHub's default {@code reduction_factor} for both architectures. */
    public static final double DEFAULT_REDUCTION_FACTOR = 16;

    private final String configName;
    private final List<SublayerSite> sublayers;
    private final NonLinearity defaultNonLinearity;

    Architecture(String configName, List<SublayerSite> sublayers, NonLinearity defaultNonLinearity) {
        this.configName = configName;
        this.sublayers = sublayers;
        this.defaultNonLinearity = defaultNonLinearity;
    }

    /** The name saved in the config and given to {@code --method}. */
    public String configName() {
        return configName;
    }

    /** The sublayers of each block that get an adapter ({@code self_attn}, {@code mlp}). */
    public List<SublayerSite> sublayers() {
        return sublayers;
    }

    /** AdapterHub's default {@code non_linearity}. */
    public NonLinearity defaultNonLinearity() {
        return defaultNonLinearity;
    }

    /**
     * The architecture of a config name.
     *
     * @throws IllegalArgumentException listing the supported names
     */
    public static Architecture parse(String name) {
        for (Architecture a : values()) {
            if (a.configName.equals(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("architecture \"" + name + "\" is not a bottleneck architecture Tailor "
                + "supports (seq_bn, double_seq_bn)");
    }
}
