package dev.tailor.tensor;

/** Per-thread float scratch of the kernels and their callers: packing buffers, partial sums, dequantized rows. */
public final class Scratch {
    private Scratch() {
    }

    /**
     * This thread's array in {@code local}, replaced when shorter than {@code size} by one at least half as long again,
     * so that a size growing a little at a time (attention's scores over a growing context) replaces it a few times,
     * not at every call.
     */
    public static float[] floats(ThreadLocal<float[]> local, int size) {
        float[] buf = local.get();
        if (buf.length < size) {
            buf = new float[(int) Math.min(Integer.MAX_VALUE - 8, Math.max(size, buf.length + (long) buf.length / 2))];
            local.set(buf);
        }
        return buf;
    }
}
