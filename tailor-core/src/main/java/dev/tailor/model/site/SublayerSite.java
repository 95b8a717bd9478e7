package dev.tailor.model.site;

import java.util.Arrays;
import java.util.List;

/**
 * A sublayer of a decoder block, whose output is a site for {@link SublayerHook}s (before the residual add) and
 * whose module holds a group of {@link LinearSite}s.
 */
public enum SublayerSite implements Site {
    /** The attention, {@code self_attn} (its output is {@code o_proj}'s). */
    SELF_ATTN("self_attn"),
    /** The feed-forward block, {@code mlp} (its output is {@code down_proj}'s). */
    MLP("mlp");

    private final String path;

    SublayerSite(String path) {
        this.path = path;
    }

    /** The module path inside a block, which is also the short name: {@code self_attn}, {@code mlp}. */
    @Override
    public String path() {
        return path;
    }

    /** The linears of this sublayer, in block order: {@code q_proj … o_proj} or {@code gate_proj … down_proj}. */
    public List<LinearSite> linears() {
        return Arrays.stream(LinearSite.values()).filter(s -> s.sublayer() == this).toList();
    }

    /**
     * The block and sublayer of a module name such as {@code model.layers.3.mlp}.
     *
     * @throws IllegalArgumentException when {@code module} names no sublayer of a block
     */
    public static At<SublayerSite> parse(String module) {
        return ModuleNames.parse(module, values(), "sublayer");
    }
}
