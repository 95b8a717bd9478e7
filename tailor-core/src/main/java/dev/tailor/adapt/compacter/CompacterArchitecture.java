package dev.tailor.adapt.compacter;

import dev.tailor.model.site.SublayerSite;

import java.util.List;

/**
 * Where Compacter's layers sit, as AdapterHub's two configurations place them (FORMATS.md).
 */
public enum CompacterArchitecture {
    /** {@code CompacterConfig}: Houlsby placement, after attention and after the MLP of every block. */
    COMPACTER("compacter", List.of(SublayerSite.SELF_ATTN, SublayerSite.MLP)),
    /** {@code CompacterPlusPlusConfig}: Pfeiffer placement, after the MLP only. */
    COMPACTER_PLUS_PLUS("compacter++", List.of(SublayerSite.MLP));

    private final String configName;
    private final List<SublayerSite> sublayers;

    CompacterArchitecture(String configName, List<SublayerSite> sublayers) {
        this.configName = configName;
        this.sublayers = sublayers;
    }

    /** The name used on the command line and saved as {@code architecture}: {@code compacter}, {@code compacter++}. */
    public String configName() {
        return configName;
    }

    /** The sublayers of a block that get a Compacter layer: {@code self_attn} and/or {@code mlp}. */
    public List<SublayerSite> sublayers() {
        return sublayers;
    }

    /**
     * The architecture called {@code name}.
     *
     * @throws IllegalArgumentException listing the known names
     */
    public static CompacterArchitecture parse(String name) {
        for (CompacterArchitecture a : values()) {
            if (a.configName.equals(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown Compacter architecture \"" + name
                + "\" (expected compacter or compacter++)");
    }
}
