package dev.tailor.tensor;

import java.util.Arrays;

/**
 * A trainable tensor: float32 values and their gradient, on the heap, under the Hugging Face (or PEFT) name it
 * is saved with.
 */
public final class Parameter {
    private final String name;
    private final long[] shape;
    private final float[] data;
    private float[] grad;

    /** A parameter over existing values (not copied); the gradient is allocated, at zero, on first use. */
    public Parameter(String name, long[] shape, float[] data) {
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        if (count != data.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " holds " + count
                    + " values, got " + data.length);
        }
        this.name = name;
        this.shape = shape.clone();
        this.data = data;
    }

    /** The saved name, e.g. {@code model.layers.0.mlp.up_proj.weight}. */
    public String name() {
        return name;
    }

    /** Dimensions, outermost first. */
    public long[] shape() {
        return shape.clone();
    }

    /** The values (updated in place by the optimizer). */
    public float[] data() {
        return data;
    }

    /** The accumulated gradient (allocated on first use, so adapters only served cost no gradient memory). */
    public float[] grad() {
        if (grad == null) {
            grad = new float[data.length];
        }
        return grad;
    }

    /** Number of values. */
    public int size() {
        return data.length;
    }

    /** Sets the gradient to zero. */
    public void zeroGrad() {
        if (grad != null) {
            Arrays.fill(grad, 0f);
        }
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
