package dev.tailor.io.gguf;

import java.util.Arrays;

/**
 * One tensor info of a GGUF file.
 *
 * @param name   the GGUF name, e.g. {@code blk.0.attn_q.weight}
 * @param dims   the dimensions in ggml order ({@code ne}): {@code dims[0]} is the row length (innermost)
 * @param type   the element type
 * @param offset byte offset of the data from the start of the data section
 * @param bytes  bytes the data occupies
 */
public record GgufTensor(String name, long[] dims, GgmlType type, long offset, long bytes) {

    /** Number of values: the product of the dimensions. */
    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The shape outermost first, as Hugging Face and safetensors write it (the dims reversed). */
    public long[] shape() {
        long[] shape = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            shape[i] = dims[dims.length - 1 - i];
        }
        return shape;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensor t && name.equals(t.name) && Arrays.equals(dims, t.dims) && type == t.type
                && offset == t.offset && bytes == t.bytes;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(dims);
    }
}
