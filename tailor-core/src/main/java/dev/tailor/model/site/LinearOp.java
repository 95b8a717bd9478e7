package dev.tailor.model.site;

import dev.tailor.tensor.WeightMatrix;

/**
 * A linear map {@code y = x·Wᵀ (+ b)} as an adapter sees what it wraps: the frozen base layer, or the base with the
 * adapters stacked below.
 */
public interface LinearOp {

    /** The base weight {@code [out, in]}, as stored (frozen, read in place). */
    WeightMatrix weight();

    /** The base bias {@code [out]}, or null. */
    float[] bias();

    /** Output features. */
    default int out() {
        return weight().rows();
    }

    /** Input features. */
    default int in() {
        return weight().cols();
    }

    /**
     * Writes {@code y [m, out]} for {@code x [m, in]}. The arrays may be longer than m rows (a batch's reused work
     * arrays): only the first m rows are read and written.
     */
    void forward(float[] x, int m, float[] y);

    /**
     * From {@code dy [m, out]} and the input {@code x [m, in]}, accumulates the gradients of whatever it trains and,
     * when {@code dx} is not null, writes (overwrites) the input gradient {@code dx [m, in]}.
     */
    void backward(float[] dy, float[] x, int m, float[] dx);
}
