package dev.tailor.train.optim;

import dev.tailor.tensor.Parameter;

import java.util.List;

/**
 * Updates parameters in place from their accumulated gradients. State (moments, momentum buffers) is kept per
 * parameter name and created on the first step.
 */
public interface Optimizer {

    /** The optimizer's name as saved in checkpoints, e.g. {@code adamw}. */
    String kind();

    /**
     * Applies one update to every parameter, reading {@link Parameter#grad()} and writing {@link Parameter#data()}.
     *
     * @param params the trainable parameters, the same ones at every step
     * @param lr     the learning rate for this step (a schedule's value, in double precision as torch keeps it)
     */
    void step(List<Parameter> params, double lr);

    /** Sets every parameter's gradient to zero. */
    default void zeroGrad(List<Parameter> params) {
        for (Parameter p : params) {
            p.zeroGrad();
        }
    }

    /** Updates applied so far. */
    long steps();

    /**
     * The state to save. Its arrays are the optimizer's live buffers, not copies: write them out before the next
     * {@link #step}.
     */
    OptimizerState state();

    /**
     * Replaces the state with a saved one (its arrays are copied).
     *
     * @throws IllegalArgumentException if the state belongs to another optimizer or lacks one of its slots
     */
    void load(OptimizerState state);
}
