package dev.tailor.adapt.lora;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Merging task tensors (same-shaped tensors, one per adapter, flattened) with weights, as PEFT's
 * {@code peft.utils.merge_utils}: task arithmetic, magnitude pruning, TIES (Yadav et al., 2023) and DARE (Yu et
 * al., 2023). Sums are taken in double and rounded to float once.
 */
public final class TaskArithmetic {
    private TaskArithmetic() {
    }

    /** Merges {@code tasks} with {@code weights} as {@code merge} does; {@code rnd} drives DARE's pruning. */
    public static float[] merge(CombinationType.TaskMerge merge, float[][] tasks, double[] weights, Double density,
                                MajoritySignMethod signMethod, SplittableRandom rnd) {
        return switch (merge) {
            case SUM -> taskArithmetic(tasks, weights);
            case MAGNITUDE_PRUNE -> magnitudePrune(tasks, weights, density);
            case TIES -> ties(tasks, weights, density, signMethod);
            case DARE_LINEAR -> dareLinear(tasks, weights, density, rnd);
            case DARE_TIES -> dareTies(tasks, weights, density, signMethod, rnd);
        };
    }

    /** {@code task_arithmetic}: {@code Σ wᵢ·tᵢ}. */
    public static float[] taskArithmetic(float[][] tasks, double[] weights) {
        check(tasks, weights);
        float[] out = new float[tasks[0].length];
        for (int j = 0; j < out.length; j++) {
            double sum = 0;
            for (int i = 0; i < tasks.length; i++) {
                sum += weights[i] * tasks[i][j];
            }
            out[j] = (float) sum;
        }
        return out;
    }

    /** {@code magnitude_prune}: each task keeps its {@code density} largest magnitudes, then {@code Σ wᵢ·tᵢ}. */
    public static float[] magnitudePrune(float[][] tasks, double[] weights, double density) {
        float[][] pruned = new float[tasks.length][];
        for (int i = 0; i < tasks.length; i++) {
            pruned[i] = pruneMagnitude(tasks[i], density);
        }
        return taskArithmetic(pruned, weights);
    }

    /** {@code ties}: magnitude pruning, sign election on the pruned tasks, disjoint merge of the weighted ones. */
    public static float[] ties(float[][] tasks, double[] weights, double density, MajoritySignMethod method) {
        float[][] pruned = new float[tasks.length][];
        for (int i = 0; i < tasks.length; i++) {
            pruned[i] = pruneMagnitude(tasks[i], density);
        }
        return disjointMerge(pruned, weights, majoritySign(pruned, method));
    }

    /** {@code dare_linear}: random pruning with rescaling by {@code 1/density}, then {@code Σ wᵢ·tᵢ}. */
    public static float[] dareLinear(float[][] tasks, double[] weights, double density, SplittableRandom rnd) {
        float[][] pruned = new float[tasks.length][];
        for (int i = 0; i < tasks.length; i++) {
            pruned[i] = pruneRandom(tasks[i], density, rnd);
        }
        return taskArithmetic(pruned, weights);
    }

    /** {@code dare_ties}: random pruning with rescaling, sign election, disjoint merge. */
    public static float[] dareTies(float[][] tasks, double[] weights, double density, MajoritySignMethod method,
                                   SplittableRandom rnd) {
        float[][] pruned = new float[tasks.length][];
        for (int i = 0; i < tasks.length; i++) {
            pruned[i] = pruneRandom(tasks[i], density, rnd);
        }
        return disjointMerge(pruned, weights, majoritySign(pruned, method));
    }

    /**
     * {@code magnitude_based_pruning}: keeps the {@code k = int(density·n)} entries of largest magnitude (the
     * earlier one on ties) and zeroes the rest; {@code density >= 1} keeps all.
     */
    public static float[] pruneMagnitude(float[] t, double density) {
        if (density >= 1) {
            return t.clone();
        }
        int k = (int) (density * t.length);
        float[] out = new float[t.length];
        if (k == 0) {
            return out;
        }
        float[] magnitudes = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            magnitudes[i] = Math.abs(t[i]);
        }
        float[] sorted = magnitudes.clone();
        Arrays.sort(sorted);
        float threshold = sorted[t.length - k];
        int above = 0;
        for (float m : magnitudes) {
            if (m > threshold) {
                above++;
            }
        }
        int atThreshold = k - above;
        for (int i = 0; i < t.length; i++) {
            if (magnitudes[i] > threshold) {
                out[i] = t[i];
            } else if (magnitudes[i] == threshold && atThreshold > 0) {
                out[i] = t[i];
                atThreshold--;
            }
        }
        return out;
    }

    /**
     * {@code random_pruning} with {@code rescale}: keeps each entry with probability {@code density} (drawn from
     * {@code rnd}, in order) and divides the kept ones by {@code density}; {@code density >= 1} keeps all.
     */
    public static float[] pruneRandom(float[] t, double density, SplittableRandom rnd) {
        if (density >= 1) {
            return t.clone();
        }
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            if (rnd.nextDouble() < density) {
                out[i] = (float) (t[i] / density);
            }
        }
        return out;
    }

    /**
     * {@code calculate_majority_sign_mask}: per entry, the elected sign ({@code +1} when the total, or the sum of
     * signs, is {@code >= 0}, else {@code −1}); a task keeps an entry when its sign equals the elected one (so zeros
     * never do). Returns {@code mask[task][entry]}.
     */
    public static boolean[][] majoritySign(float[][] tasks, MajoritySignMethod method) {
        int n = tasks[0].length;
        boolean[][] mask = new boolean[tasks.length][n];
        for (int j = 0; j < n; j++) {
            double magnitude = 0;
            for (float[] t : tasks) {
                magnitude += switch (method) {
                    case TOTAL -> t[j];
                    case FREQUENCY -> Math.signum(t[j]);
                };
            }
            float elected = magnitude >= 0 ? 1f : -1f;
            for (int i = 0; i < tasks.length; i++) {
                mask[i][j] = Math.signum(tasks[i][j]) == elected;
            }
        }
        return mask;
    }

    /**
     * {@code disjoint_merge} of the weighted tasks: per entry, the sum of {@code wᵢ·tᵢ} over the tasks the mask
     * keeps, divided by their number (at least 1).
     */
    public static float[] disjointMerge(float[][] tasks, double[] weights, boolean[][] mask) {
        check(tasks, weights);
        float[] out = new float[tasks[0].length];
        for (int j = 0; j < out.length; j++) {
            double sum = 0;
            int kept = 0;
            for (int i = 0; i < tasks.length; i++) {
                if (mask[i][j]) {
                    sum += weights[i] * tasks[i][j];
                    kept++;
                }
            }
            out[j] = (float) (sum / Math.max(kept, 1));
        }
        return out;
    }

    private static void check(float[][] tasks, double[] weights) {
        if (tasks.length == 0 || tasks.length != weights.length) {
            throw new IllegalArgumentException("merging needs one weight per task tensor: " + tasks.length
                    + " tensors, " + weights.length + " weights");
        }
        for (float[] t : tasks) {
            if (t.length != tasks[0].length) {
                throw new IllegalArgumentException("task tensors differ in size: " + tasks[0].length + " and "
                        + t.length);
            }
        }
    }
}
