package dev.tailor.model.site;

import java.util.List;

/**
 * A linear of a decoder block, a site for {@link LinearHook}s; in block order. Its short name
 * ({@code q_proj}) is what PEFT's {@code target_modules} lists, its {@link #path()} ({@code self_attn.q_proj}) puts it
 * in its sublayer.
 */
public enum LinearSite implements Site {
    /** The query projection, {@code [query, hidden]}. */
    Q_PROJ(SublayerSite.SELF_ATTN, "q_proj", Width.HIDDEN, Width.QUERY),
    /** The key projection, {@code [key_value, hidden]}. */
    K_PROJ(SublayerSite.SELF_ATTN, "k_proj", Width.HIDDEN, Width.KEY_VALUE),
    /** The value projection, {@code [key_value, hidden]}. */
    V_PROJ(SublayerSite.SELF_ATTN, "v_proj", Width.HIDDEN, Width.KEY_VALUE),
    /** The attention output projection, {@code [hidden, query]}. */
    O_PROJ(SublayerSite.SELF_ATTN, "o_proj", Width.QUERY, Width.HIDDEN),
    /** The SwiGLU gate, {@code [intermediate, hidden]}. */
    GATE_PROJ(SublayerSite.MLP, "gate_proj", Width.HIDDEN, Width.INTERMEDIATE),
    /** The SwiGLU up projection, {@code [intermediate, hidden]}. */
    UP_PROJ(SublayerSite.MLP, "up_proj", Width.HIDDEN, Width.INTERMEDIATE),
    /** The feed-forward output projection, {@code [hidden, intermediate]}. */
    DOWN_PROJ(SublayerSite.MLP, "down_proj", Width.INTERMEDIATE, Width.HIDDEN);

    private static final List<LinearSite> ALL = List.of(values());
    private static final List<String> ALL_NAMES = ALL.stream().map(LinearSite::shortName).toList();

    private final SublayerSite sublayer;
    private final String shortName;
    private final Width in;
    private final Width out;

    LinearSite(SublayerSite sublayer, String shortName, Width in, Width out) {
        this.sublayer = sublayer;
        this.shortName = shortName;
        this.in = in;
        this.out = out;
    }

    /** The sublayer the linear belongs to. */
    public SublayerSite sublayer() {
        return sublayer;
    }

    /** The name of the linear within its sublayer, as {@code target_modules} gives it: {@code q_proj}. */
    public String shortName() {
        return shortName;
    }

    /** The module path inside a block: {@code self_attn.q_proj}. */
    @Override
    public String path() {
        return sublayer.path() + "." + shortName;
    }

    /** Input features. */
    public Width in() {
        return in;
    }

    /** Output features (rows of the weight). */
    public Width out() {
        return out;
    }

    /**
     * What PEFT's {@code all-linear} targets in a Llama-family model: every linear of the blocks, in block order
     * ({@code lm_head}, the output layer, is excluded as PEFT excludes it).
     */
    public static List<LinearSite> allLinear() {
        return ALL;
    }

    /** The short names of {@link #allLinear()}, {@code q_proj} … {@code down_proj}. */
    public static List<String> allLinearNames() {
        return ALL_NAMES;
    }

    /**
     * The linear whose short name is {@code shortName} ({@code q_proj}).
     *
     * @throws IllegalArgumentException listing the short names when there is none
     */
    public static LinearSite named(String shortName) {
        for (LinearSite s : ALL) {
            if (s.shortName.equals(shortName)) {
                return s;
            }
        }
        throw new IllegalArgumentException("not a linear of a Llama block: " + shortName + " (expected "
                + String.join(", ", ALL_NAMES) + ")");
    }

    /**
     * The block and linear of a module name such as {@code model.layers.3.self_attn.q_proj}.
     *
     * @throws IllegalArgumentException when {@code module} names no linear of a block
     */
    public static At<LinearSite> parse(String module) {
        return ModuleNames.parse(module, values(), "linear");
    }
}
