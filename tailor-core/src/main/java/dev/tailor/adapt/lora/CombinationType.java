package dev.tailor.adapt.lora;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How {@link LoraCombine} combines LoRA adapters: PEFT's {@code combination_type} of
 * {@code LoraModel.add_weighted_adapter}, under PEFT's names.
 */
public enum CombinationType {
    /** Weighted sum of the A matrices and of the B matrices separately (each weighted by {@code √|w·s|}). */
    LINEAR("linear", TaskMerge.SUM, false),
    /** Stacks the pairs along the rank: {@code ΔW = Σ wᵢ·sᵢ·Bᵢ·Aᵢ} exactly, rank the sum of the ranks. */
    CAT("cat", TaskMerge.SUM, false),
    /** Truncated SVD of {@code ΔW = Σ wᵢ·sᵢ·Bᵢ·Aᵢ}. */
    SVD("svd", TaskMerge.SUM, true),
    /** TIES on A and on B: magnitude pruning, sign election, disjoint merge. */
    TIES("ties", TaskMerge.TIES, false),
    /** TIES on the ΔWᵢ, then a truncated SVD. */
    TIES_SVD("ties_svd", TaskMerge.TIES, true),
    /** DARE on A and on B: random pruning with rescaling, then a weighted sum. */
    DARE_LINEAR("dare_linear", TaskMerge.DARE_LINEAR, false),
    /** DARE on the ΔWᵢ, then a truncated SVD. */
    DARE_LINEAR_SVD("dare_linear_svd", TaskMerge.DARE_LINEAR, true),
    /** DARE pruning, then TIES' sign election and disjoint merge, on A and on B. */
    DARE_TIES("dare_ties", TaskMerge.DARE_TIES, false),
    /** DARE-TIES on the ΔWᵢ, then a truncated SVD. */
    DARE_TIES_SVD("dare_ties_svd", TaskMerge.DARE_TIES, true),
    /** Magnitude pruning, then a weighted sum, on A and on B. */
    MAGNITUDE_PRUNE("magnitude_prune", TaskMerge.MAGNITUDE_PRUNE, false),
    /** Magnitude pruning of the ΔWᵢ, a weighted sum, then a truncated SVD. */
    MAGNITUDE_PRUNE_SVD("magnitude_prune_svd", TaskMerge.MAGNITUDE_PRUNE, true);

    /** How the task tensors (A and B matrices, or the ΔWᵢ for the SVD types) are merged. */
    public enum TaskMerge {
        /** Weighted sum ({@code task_arithmetic}). */
        SUM,
        /** {@code ties}. */
        TIES,
        /** {@code dare_linear}. */
        DARE_LINEAR,
        /** {@code dare_ties}. */
        DARE_TIES,
        /** {@code magnitude_prune}. */
        MAGNITUDE_PRUNE
    }

    private final String peftName;
    private final TaskMerge merge;
    private final boolean svd;

    CombinationType(String peftName, TaskMerge merge, boolean svd) {
        this.peftName = peftName;
        this.merge = merge;
        this.svd = svd;
    }

    /** PEFT's name, e.g. {@code dare_ties}. */
    public String peftName() {
        return peftName;
    }

    /** How the task tensors are merged. */
    public TaskMerge merge() {
        return merge;
    }

    /** Whether the result is a truncated SVD of the merged ΔW (rank {@code svd_rank}). */
    public boolean svd() {
        return svd;
    }

    /** Whether the merge prunes, so needs a {@code density}. */
    public boolean needsDensity() {
        return merge != TaskMerge.SUM;
    }

    /** Whether the merge elects a sign, so uses the {@code majority_sign_method}. */
    public boolean electsSign() {
        return merge == TaskMerge.TIES || merge == TaskMerge.DARE_TIES;
    }

    /**
     * The type named {@code name} (PEFT's spelling).
     *
     * @throws IllegalArgumentException listing the names when there is none such
     */
    public static CombinationType parse(String name) {
        for (CombinationType t : values()) {
            if (t.peftName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown combination method \"" + name + "\" (expected one of "
                + Arrays.stream(values()).map(CombinationType::peftName).collect(Collectors.joining(", ")) + ")");
    }
}
