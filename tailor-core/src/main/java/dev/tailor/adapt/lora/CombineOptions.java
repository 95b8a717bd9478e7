package dev.tailor.adapt.lora;

import dev.tailor.adapt.InvalidOptionException;
/**
 * The options of a weighted combination of LoRA adapters, as PEFT's {@code add_weighted_adapter} names them.
 *
 * @param type               the {@code combination_type}
 * @param density            fraction of values kept by the pruning types, in {@code [0, 1]} ({@code (0, 1]} for
 *                           DARE); null for the others
 * @param majoritySignMethod sign election of the TIES types
 * @param svdRank            rank of the SVD types' result, or null for the largest rank of the adapters
 * @param svdClamp           quantile in {@code [0, 1]} at which the SVD types clamp the entries of B and A, or null
 * @param seed               seed of DARE's random pruning (the SVD types' decomposition is exact and takes none)
 */
public record CombineOptions(CombinationType type, Double density, MajoritySignMethod majoritySignMethod,
                             Integer svdRank, Double svdClamp, long seed) {

    /**
     * Checks the options fit the type.
     *
     * @throws IllegalArgumentException naming the option that is missing or out of range
     */
    public CombineOptions {
        if (type == null) {
            throw new IllegalArgumentException("a combination method is required");
        }
        majoritySignMethod = majoritySignMethod == null ? MajoritySignMethod.TOTAL : majoritySignMethod;
        if (type.needsDensity()) {
            if (density == null) {
                throw new InvalidOptionException("density", "density is required by the " + type.peftName() + " method");
            }
            boolean dare = type.merge() == CombinationType.TaskMerge.DARE_LINEAR
                    || type.merge() == CombinationType.TaskMerge.DARE_TIES;
            if (!(density <= 1) || (dare ? !(density > 0) : !(density >= 0))) {
                throw new InvalidOptionException("density", "density must be in " + (dare ? "(0, 1]" : "[0, 1]")
                        + " for " + type.peftName() + ", got " + density);
            }
        }
        if (svdRank != null && svdRank < 1) {
            throw new InvalidOptionException("svd_rank", "svd_rank must be >= 1, got " + svdRank);
        }
        if (svdClamp != null && !(svdClamp >= 0 && svdClamp <= 1)) {
            throw new InvalidOptionException("svd_clamp", "svd_clamp must be a quantile in [0, 1], got " + svdClamp);
        }
    }

    /** The type with PEFT's defaults: no density, {@code total} sign election, no SVD rank or clamp, seed 0. */
    public static CombineOptions of(CombinationType type) {
        return new CombineOptions(type, null, MajoritySignMethod.TOTAL, null, null, 0);
    }

    /** The type with a density and otherwise PEFT's defaults, as {@link #of(CombinationType)}. */
    public static CombineOptions of(CombinationType type, double density) {
        return new CombineOptions(type, density, MajoritySignMethod.TOTAL, null, null, 0);
    }
}
