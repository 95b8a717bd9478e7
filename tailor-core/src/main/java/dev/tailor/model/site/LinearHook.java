package dev.tailor.model.site;

import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;

import java.util.List;

/**
 * A trainable piece at a linear site ({@code q_proj} … {@code down_proj}) that wraps the layer it is attached to:
 * LoRA adds {@code s·B·A·x} to the inner output, IA³ scales its input or output, DoRA rescales its rows. The same
 * object serves training and inference. Training calls the overloads that take a {@link TrainingPass} (where
 * dropout applies); the others are inference. Implementations keep no per-call state: what a training backward
 * needs from its forward, beyond the layer's input, comes back from that forward as a {@link Saved} value, which the
 * caller keeps with its other activations and hands to the matching backward (a gradient checkpointing recompute
 * returns it again), so checkpointing and several sequences per step need nothing special. An inference backward
 * recomputes what it needs from the layer's input.
 */
public interface LinearHook {

    /**
     * What a training forward hands to its backward, opaque to the caller; each adapter's backward takes only what
     * its own forward returned.
     */
    interface Saved {
        /** The value of a forward that saves nothing: its backward recomputes what it needs. */
        Saved NOTHING = new Saved() {
        };
    }

    /**
     * Checks the adapter was made for a linear of {@code [out, in]}.
     *
     * @throws IllegalArgumentException naming the module and both shapes when it was not
     */
    void checkFits(String module, int out, int in);

    /** The trainable tensors, under the names they are saved with. */
    List<Parameter> parameters();

    /** Writes {@code y [m, out]}, the adapted output of {@code inner} for {@code x [m, in]}. */
    void forward(LinearOp inner, float[] x, int m, float[] y);

    /**
     * From {@code dy [m, out]} and the layer input {@code x [m, in]}, accumulates the gradients of this adapter's
     * parameters and of {@code inner}'s and, when {@code dx} is not null, writes the input gradient {@code dx [m, in]}.
     */
    void backward(LinearOp inner, float[] dy, float[] x, int m, float[] dx);

    /**
     * {@link #forward(LinearOp, float[], int, float[])} in training pass {@code pass}: methods with dropout draw their
     * mask from the pass (the same mask as the matching {@link #backward(LinearOp, float[], float[], int, float[],
     * TrainingPass, Saved) backward}). By default training computes what inference does and saves nothing.
     *
     * @return what the backward of this call needs, {@link Saved#NOTHING} when it needs only the input
     */
    default Saved forward(LinearOp inner, float[] x, int m, float[] y, TrainingPass pass) {
        forward(inner, x, m, y);
        return Saved.NOTHING;
    }

    /**
     * The backward of {@link #forward(LinearOp, float[], int, float[], TrainingPass)} for the same input and pass,
     * with what that forward returned.
     */
    default void backward(LinearOp inner, float[] dy, float[] x, int m, float[] dx, TrainingPass pass, Saved saved) {
        backward(inner, dy, x, m, dx);
    }

    /**
     * The stage this adapter applies to {@code inner}'s output, when its inference forward is {@code inner}'s
     * forward followed by that stage on the same input; null (the default) when the adapter changes what
     * {@code inner} sees, such as IA³ scaling a feed-forward input. A batch of rows with different adapters shares
     * the base product only between adapters that have a stage.
     */
    default OutputStage outputStage() {
        return null;
    }

    /** {@code inner} with this adapter on top, for stacking. */
    default LinearOp around(LinearOp inner) {
        LinearHook self = this;
        return new LinearOp() {
            @Override
            public WeightMatrix weight() {
                return inner.weight();
            }

            @Override
            public float[] bias() {
                return inner.bias();
            }

            @Override
            public void forward(float[] x, int m, float[] y) {
                self.forward(inner, x, m, y);
            }

            @Override
            public void backward(float[] dy, float[] x, int m, float[] dx) {
                self.backward(inner, dy, x, m, dx);
            }
        };
    }
}
