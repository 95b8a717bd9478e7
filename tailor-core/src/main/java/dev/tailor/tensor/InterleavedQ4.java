package dev.tailor.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A Q4_0 matrix's rows regrouped for {@link IntegerGemv}: rows in groups of {@link #ROWS} (a short vector's lanes),
 * and within a group, block by block, byte j of the block of every row side by side, so that one vector load
 * holds byte j of {@code ROWS} rows. Group g, block b, byte j, row {@code g·ROWS + r} is at byte
 * {@code ((g·blocks + b)·16 + j)·ROWS + r}; the blocks' F16 scales, widened to floats, are in {@link #scales} at
 * {@code (g·blocks + b)·ROWS + r}. A last group short of rows is padded with zero bytes and zero scales. Made once per
 * matrix ({@link WeightMatrix#interleavedQ4}), in native memory the garbage collector frees with it.
 */
final class InterleavedQ4 {
    /** Rows per group: the lanes of a short vector at the float kernels' width. */
    static final int ROWS = 2 * WeightVectors.L;

    /** The nibble bytes, regrouped. */
    final MemorySegment nibbles;
    /** The scales, regrouped, as floats. */
    final float[] scales;
    /** Rows of the matrix. */
    final int rows;
    /** Blocks of 32 per row. */
    final int blocks;
    /** Groups of {@link #ROWS} rows, the last one maybe padded. */
    final int groups;

    private InterleavedQ4(MemorySegment nibbles, float[] scales, int rows, int blocks, int groups) {
        this.nibbles = nibbles;
        this.scales = scales;
        this.rows = rows;
        this.blocks = blocks;
        this.groups = groups;
    }

    /** {@code w} (Q4_0) regrouped. */
    static InterleavedQ4 of(WeightMatrix w) {
        if (w.dtype() != DType.Q4_0) {
            throw new IllegalArgumentException("not a Q4_0 matrix: " + w.dtype());
        }
        int blocks = w.cols() / Quantization.QK;
        int groups = (w.rows() + ROWS - 1) / ROWS;
        MemorySegment src = w.data();
        MemorySegment dst = Arena.ofAuto().allocate(Math.max(1, (long) groups * blocks * 16 * ROWS), 64);
        float[] rowScales = Quantization.blockScales(DType.Q4_0, src, w.rows(), w.cols());
        float[] scales = new float[groups * blocks * ROWS];
        long blockBytes = DType.Q4_0.blockBytes();
        for (int row = 0; row < w.rows(); row++) {
            int g = row / ROWS;
            int r = row % ROWS;
            for (int b = 0; b < blocks; b++) {
                long at = row * w.rowBytes() + b * blockBytes;
                scales[(g * blocks + b) * ROWS + r] = rowScales[row * blocks + b];
                long to = ((long) g * blocks + b) * 16 * ROWS + r;
                for (int j = 0; j < 16; j++) {
                    dst.set(ValueLayout.JAVA_BYTE, to + (long) j * ROWS, src.get(ValueLayout.JAVA_BYTE, at + 2 + j));
                }
            }
        }
        return new InterleavedQ4(dst, scales, w.rows(), blocks, groups);
    }

    /** Bytes per group, nibbles and scales. */
    long groupBytes() {
        return (long) blocks * ROWS * (16 + Float.BYTES);
    }
}
