package dev.tailor.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A Q4_0 or Q8_0 matrix's rows regrouped for {@link IntegerGemv}: rows in groups of {@link #ROWS} (a short vector's
 * lanes), and within a group, block by block, the quant bytes of the block of every row side by side. A block has
 * {@link #blockQuants} quant bytes (16 for Q4_0, two nibbles each; 32 for Q8_0). Q8_0: one vector load holds byte j of
 * {@code ROWS} rows; group g, block b, byte j, row {@code g·ROWS + r} is at byte
 * {@code ((g·blocks + b)·32 + j)·ROWS + r}. Q4_0: one vector load holds bytes j and j + 1 (j even) of {@code ROWS}
 * rows, each row's two in one little-endian 16-bit lane (four nibbles: elements j, j + 16, j + 1 and j + 17); byte j
 * of row {@code g·ROWS + r} is at byte {@code ((g·blocks + b)·16 + j - j % 2)·ROWS + 2r + j % 2}
 * ({@link #quantOffset}). The blocks' F16 scales, as in the file, are in {@link #scales} at half
 * {@code (g·blocks + b)·ROWS + r}, so the copy is no larger than the matrix (widening them to floats made it 6%
 * larger for Q8_0 and 11% for Q4_0, bytes every decoded token reads). A last group short of rows is padded with zero
 * bytes and zero scales. Made once per matrix ({@link WeightMatrix#interleaved}), in native memory the garbage
 * collector frees with it.
 */
final class InterleavedBlocks {
    /**
     * Source bytes read between drops of their mapped pages: the copy replaces them as it is made, so a matrix's
     * pages and its copy are never both resident (the embedding is half of a small model's weights).
     */
    private static final long DROP_BYTES = 1 << 20;

    /** Rows per group: the lanes of a short vector at the float kernels' width. */
    static final int ROWS = 2 * WeightVectors.L;

    /** The weight type, Q4_0 or Q8_0. */
    final DType dtype;
    /** The quant bytes, regrouped. */
    final MemorySegment quants;
    /** The scales, regrouped: little-endian F16, all finite ({@link WeightVectors#f16Finite} widens them). */
    final MemorySegment scales;
    /** Rows of the matrix. */
    final int rows;
    /** Blocks of 32 per row. */
    final int blocks;
    /** Quant bytes per block. */
    final int blockQuants;
    /** Groups of {@link #ROWS} rows, the last one maybe padded. */
    final int groups;

    private InterleavedBlocks(DType dtype, MemorySegment quants, MemorySegment scales, int rows, int blocks,
                              int blockQuants, int groups) {
        this.dtype = dtype;
        this.quants = quants;
        this.scales = scales;
        this.rows = rows;
        this.blocks = blocks;
        this.blockQuants = blockQuants;
        this.groups = groups;
    }

    /**
     * {@code w} (Q4_0 or Q8_0) regrouped.
     *
     * @throws IllegalArgumentException when {@code w} is of another type, or a block's scale is infinite or NaN (the
     *                                  loaders refuse such weights before)
     */
    static InterleavedBlocks of(WeightMatrix w) {
        DType dtype = w.dtype();
        if (dtype != DType.Q4_0 && dtype != DType.Q8_0) {
            throw new IllegalArgumentException("not a Q4_0 or Q8_0 matrix: " + dtype);
        }
        int quantBytes = dtype.blockBytes() - Short.BYTES;
        int blocks = w.cols() / Quantization.QK;
        int groups = (w.rows() + ROWS - 1) / ROWS;
        MemorySegment src = w.storedBytes();
        Arena arena = Arena.ofAuto();
        MemorySegment dst = arena.allocate(Math.max(1, (long) groups * blocks * quantBytes * ROWS), 64);
        MemorySegment scales = arena.allocate(Math.max(1, (long) groups * blocks * ROWS * Short.BYTES), 64);
        int dropEvery = (int) Math.max(1, DROP_BYTES / w.rowBytes());
        for (int row = 0; row < w.rows(); row++) {
            int g = row / ROWS;
            int r = row % ROWS;
            if (row > 0 && row % dropEvery == 0) {
                w.dropMappedRows(row - dropEvery, row);
            }
            long rowAt = w.storedRowOffset(row);
            for (int b = 0; b < blocks; b++) {
                long at = rowAt + b * dtype.blockBytes();
                short scale = src.get(Numerics.I16_LE, at);
                if (FiniteScan.nonFiniteHalf(scale)) {
                    throw new IllegalArgumentException("block " + b + " of row " + row + " has a non-finite scale ("
                            + Float.float16ToFloat(scale) + ")");
                }
                scales.setAtIndex(Numerics.I16_LE, (long) (g * blocks + b) * ROWS + r, scale);
                at += Short.BYTES;
                for (int j = 0; j < quantBytes; j++) {
                    dst.set(ValueLayout.JAVA_BYTE, quantOffset(dtype, blocks, g, b, j, r),
                            src.get(ValueLayout.JAVA_BYTE, at + j));
                }
            }
        }
        return new InterleavedBlocks(dtype, dst, scales, w.rows(), blocks, quantBytes, groups);
    }

    /**
     * Row {@code row} dequantized into {@code dst[dstOff .. dstOff + 32·blocks)}, the values
     * {@link Quantization#dequantizeRow} makes from the matrix's own bytes: an embedding lookup of a matrix whose
     * mapped pages this copy replaced reads it here instead of faulting the file's pages back in.
     */
    void copyRow(int row, float[] dst, int dstOff) {
        int g = row / ROWS;
        int r = row % ROWS;
        for (int b = 0; b < blocks; b++) {
            float d = scale(g, b, r);
            int o = dstOff + b * Quantization.QK;
            for (int j = 0; j < blockQuants; j++) {
                byte q = quants.get(ValueLayout.JAVA_BYTE, quantOffset(g, b, j, r));
                if (dtype == DType.Q8_0) {
                    dst[o + j] = q * d;
                } else {
                    dst[o + j] = ((q & 0xF) - 8) * d;
                    dst[o + j + Quantization.QK / 2] = (((q & 0xFF) >>> 4) - 8) * d;
                }
            }
        }
    }

    /** The byte offset in {@link #quants} of quant byte {@code j} of block {@code b} of row {@code r} of group g. */
    long quantOffset(int g, int b, int j, int r) {
        return quantOffset(dtype, blocks, g, b, j, r);
    }

    private static long quantOffset(DType dtype, int blocks, int g, int b, int j, int r) {
        long block = (long) g * blocks + b;
        if (dtype == DType.Q8_0) {
            return (block * Quantization.QK + j) * ROWS + r;
        }
        return (block * (Quantization.QK / 2) + (j & ~1)) * ROWS + 2L * r + (j & 1);
    }

    /** The scale of block {@code b} of row {@code r} of group {@code g}. */
    float scale(int g, int b, int r) {
        return Float.float16ToFloat(scales.getAtIndex(Numerics.I16_LE, (long) (g * blocks + b) * ROWS + r));
    }

    /** Bytes per group, quants and scales. */
    long groupBytes() {
        return (long) blocks * ROWS * (blockQuants + Short.BYTES);
    }
}
