package dev.tailor.adapt.compacter;

import dev.tailor.adapt.InvalidOptionException;
/**
 * The options of a Compacter adapter, named and defaulted as AdapterHub's {@code CompacterConfig} /
 * {@code CompacterPlusPlusConfig}: {@code reduction_factor} 32, {@code phm_dim} 4, {@code phm_rank} 1. The other
 * AdapterHub options are fixed at their defaults: {@code non_linearity "gelu"}, {@code shared_phm_rule} and
 * {@code factorized_phm_W} true, {@code factorized_phm_rule} and {@code shared_W_phm} false, {@code phm_bias} true,
 * {@code phm_c_init "normal"} with {@code phm_init_range} 1e-4, {@code hypercomplex_nonlinearity "glorot-uniform"}.
 *
 * @param architecture    compacter (after attention and MLP) or compacter++ (after the MLP)
 * @param reductionFactor the bottleneck has {@code hidden / reduction_factor} features (floor, as AdapterHub)
 * @param phmDim          n, the number of Kronecker terms and the size of each rule matrix
 * @param phmRank         rank of the factorised {@code W_i = W_left_i · W_right_i}
 */
public record CompacterConfig(CompacterArchitecture architecture, int reductionFactor, int phmDim, int phmRank) {
    /** AdapterHub's default reduction factor for both architectures. */
    public static final int DEFAULT_REDUCTION_FACTOR = 32;
    /** AdapterHub's default {@code phm_dim}. */
    public static final int DEFAULT_PHM_DIM = 4;
    /** AdapterHub's default {@code phm_rank}. */
    public static final int DEFAULT_PHM_RANK = 1;
    /** The bottleneck's activation: PyTorch's exact GELU. */
    public static final String NON_LINEARITY = "gelu";
    /** Standard deviation of the normal draw of the shared rule matrices ({@code phm_init_range}). */
    public static final double PHM_INIT_RANGE = 1e-4;
    /** How the rule matrices are drawn ({@code phm_c_init}). */
    public static final String PHM_C_INIT = "normal";
    /** How the factors {@code W_left}, {@code W_right} are drawn ({@code hypercomplex_nonlinearity}). */
    public static final String HYPERCOMPLEX_NONLINEARITY = "glorot-uniform";

    /**
     * Checks the options.
     *
     * @throws IllegalArgumentException naming the flag that is out of range
     */
    public CompacterConfig {
        if (architecture == null) {
            throw new IllegalArgumentException("a Compacter adapter needs an architecture (compacter or compacter++)");
        }
        if (reductionFactor < 1) {
            throw new InvalidOptionException("reduction_factor", "reduction_factor must be >= 1, got " + reductionFactor);
        }
        if (phmDim < 1) {
            throw new InvalidOptionException("phm_dim", "phm_dim must be >= 1, got " + phmDim);
        }
        if (phmRank < 1) {
            throw new InvalidOptionException("phm_rank", "phm_rank must be >= 1, got " + phmRank);
        }
    }

    /** AdapterHub's defaults for {@code architecture}. */
    public static CompacterConfig defaults(CompacterArchitecture architecture) {
        return new CompacterConfig(architecture, DEFAULT_REDUCTION_FACTOR, DEFAULT_PHM_DIM, DEFAULT_PHM_RANK);
    }

    /**
     * The bottleneck width {@code hidden / reduction_factor} for a model of {@code hidden} features, checked: both
     * sides of each PHM layer must be multiples of {@code phm_dim}.
     *
     * @throws IllegalArgumentException naming the sizes and suggesting a reduction factor that works
     */
    public int bottleneck(int hidden) {
        if (hidden % phmDim != 0) {
            throw new InvalidOptionException("phm_dim", architecture.configName() + ": hidden size " + hidden
                    + " is not divisible by phm_dim " + phmDim + "; choose a phm_dim that divides it");
        }
        int down = hidden / reductionFactor;
        if (down < phmDim || down % phmDim != 0) {
            int suggestion = suggestReductionFactor(hidden);
            throw new InvalidOptionException("reduction_factor", architecture.configName() + ": hidden size " + hidden
                    + " / reduction_factor " + reductionFactor + " = " + down
                    + " bottleneck features, which is not a positive multiple of phm_dim " + phmDim
                    + (suggestion > 0 ? "; try reduction_factor " + suggestion + " (" + hidden + " / " + suggestion
                    + " = " + hidden / suggestion + ")" : "; lower phm_dim"));
        }
        return down;
    }

    /**
     * The largest reduction factor up to the requested one that leaves a positive multiple of {@code phm_dim}
     * bottleneck features for a model of {@code hidden} features; or 0 when none does.
     */
    public int suggestReductionFactor(int hidden) {
        for (int f = Math.min(reductionFactor, hidden / phmDim); f >= 1; f--) {
            int down = hidden / f;
            if (down >= phmDim && down % phmDim == 0) {
                return f;
            }
        }
        return 0;
    }
}
