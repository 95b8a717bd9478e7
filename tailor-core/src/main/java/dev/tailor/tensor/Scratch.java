package dev.tailor.tensor;

/** Per-thread float scratch of the kernels and their callers: packing buffers, partial sums, dequantized rows. */
public final class Scratch {
    private Scratch() {
    }

    /** This thread's array in {@code local}, replaced by a larger one when shorter than {@code size}. */
    public static float[] floats(ThreadLocal<float[]> local, int size) {
        float[] buf = local.get();
        if (buf.length < size) {
            buf = new float[size];
            local.set(buf);
        }
        return buf;
    }
}
