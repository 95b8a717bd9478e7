package dev.tailor.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A row-major matrix {@code [rows, cols]} read in place from memory (usually a memory-mapped model
 * file): a linear layer's weight is {@code [out_features, in_features]}. Elements stay in their
 * file's type and are widened to float inside the kernels.
 *
 * @param data  the bytes, {@code rows * cols * dtype.byteSize()} long
 * @param dtype F32, F16 or BF16
 * @param rows  number of rows (output features)
 * @param cols  number of columns (input features)
 */
public record WeightMatrix(MemorySegment data, DType dtype, int rows, int cols) {
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public WeightMatrix {
        if (!dtype.isWeightType()) {
            throw new IllegalArgumentException("weights must be F32, F16 or BF16, not " + dtype);
        }
        long expected = (long) rows * cols * dtype.byteSize();
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("weight [" + rows + ", " + cols + "] " + dtype + " needs "
                    + expected + " bytes, got " + data.byteSize());
        }
    }

    /** A heap-backed F32 matrix over {@code values} (for trainable or test weights). */
    public static WeightMatrix of(float[] values, int rows, int cols) {
        return new WeightMatrix(MemorySegment.ofArray(values), DType.F32, rows, cols);
    }

    /** Rows {@code [from, to)} as a matrix of their own, a view of the same memory. */
    public WeightMatrix rows(int from, int to) {
        if (from < 0 || to < from || to > rows) {
            throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a [" + rows + ", " + cols
                    + "] weight");
        }
        long row = (long) cols * dtype.byteSize();
        return new WeightMatrix(data.asSlice(from * row, (to - from) * row), dtype, to - from, cols);
    }

    /** Element {@code (r, c)} widened to float (slow path: tests, embeddings lookups). */
    public float get(int r, int c) {
        return Numerics.load(data, dtype, (long) r * cols + c);
    }

    /** Copies row {@code r} into {@code dst[dstOff .. dstOff + cols)}, widened to float. */
    public void copyRow(int r, float[] dst, int dstOff) {
        long base = (long) r * cols;
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, base * Float.BYTES, dst, dstOff, cols);
            return;
        }
        for (int c = 0; c < cols; c++) {
            dst[dstOff + c] = Numerics.load(data, dtype, base + c);
        }
    }
}
