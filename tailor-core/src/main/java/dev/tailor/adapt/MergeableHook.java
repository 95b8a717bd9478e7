package dev.tailor.adapt;

import dev.tailor.model.site.LinearHook;

/**
 * An adapter whose effect is a change of the wrapped linear's weight (and bias), so it can be merged into them and
 * taken out again.
 */
public interface MergeableHook extends LinearHook {

    /**
     * Turns {@code weight [out, in]} (row-major) and {@code bias [out]} (may be null) into the merged layer's, in
     * place: a linear with the results computes what this adapter over the original computes.
     */
    void mergeInto(float[] weight, float[] bias);

    /** The inverse of {@link #mergeInto} (exact up to float rounding). */
    void unmergeFrom(float[] weight, float[] bias);
}
