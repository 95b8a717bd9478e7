package dev.tailor.adapt;

import dev.tailor.train.Parameter;

import java.util.List;

/**
 * A trainable piece attached at a linear site ({@code q_proj} … {@code down_proj}) that adds to the frozen
 * layer's output: {@code y = x·Wᵀ + adapter(x)}. Implementations keep no per-call state, so gradient
 * checkpointing and several sequences per step need nothing special; what backward needs is recomputed from
 * the layer's saved input.
 */
public interface LinearAdapter {

    /**
     * Checks the adapter was made for a linear of {@code [out, in]}.
     *
     * @throws IllegalArgumentException naming the module and both shapes when it was not
     */
    void checkFits(String module, int out, int in);

    /** The trainable tensors, under the names they are saved with. */
    List<Parameter> parameters();

    /** Adds the adapter's contribution for {@code x [m, in]} to {@code y [m, out]}. */
    void forward(float[] x, int m, float[] y);

    /**
     * From {@code dy [m, out]} and the layer input {@code x [m, in]}, accumulates the parameter gradients and, when
     * {@code dx} is not null, adds the adapter's part of the input gradient to {@code dx [m, in]}.
     */
    void backward(float[] dy, float[] x, int m, float[] dx);
}
