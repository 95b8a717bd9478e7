package dev.tailor.model.site;

import dev.tailor.tensor.Parameter;

import java.util.List;

/**
 * A trainable piece at a sublayer output site of a block, {@code model.layers.{i}.self_attn} (after
 * {@code o_proj}) or {@code model.layers.{i}.mlp} (after {@code down_proj}), before the block's residual add:
 * residual bottlenecks such as AdapterHub's, {@code out = h + f(h)}. Like {@link LinearHook} it keeps no per-call
 * state; backward receives the sublayer output it was applied to.
 */
public interface SublayerHook {

    /**
     * Checks the adapter was made for a model of {@code hidden} features.
     *
     * @throws IllegalArgumentException naming the site and both sizes when it was not
     */
    void checkFits(String site, int hidden);

    /** The trainable tensors, under the names they are saved with (shared ones are the same object everywhere). */
    List<Parameter> parameters();

    /** Writes {@code out [m, hidden]} for the sublayer output {@code h [m, hidden]} ({@code out != h}). */
    void forward(float[] h, int m, float[] out);

    /**
     * From {@code dOut [m, hidden]} and the saved input {@code h}, accumulates the parameter gradients and writes
     * {@code dh [m, hidden]} ({@code dh != dOut}).
     */
    void backward(float[] dOut, float[] h, int m, float[] dh);
}
