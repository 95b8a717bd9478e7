package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;

/**
 * An F32 or BF16 matrix {@code [n, k]} regrouped for {@link PanelGemv}: its rows in panels of
 * {@link WeightVectors#L} (a vector's lanes), and within a panel, column by column, the element of every row side by
 * side, so that one vector load holds a column of L rows. F32: element {@code (j, c)} is float
 * {@code ((j / L)·k + c)·L + j mod L}. BF16, two columns to a load: the 32-bit word
 * {@code ((j / L)·⌈k / 2⌉ + c / 2)·L + j mod L} holds columns c and c + 1 (c even) of row j, c in its low half, so
 * that one int load and one operation each widen them ({@link WeightVectors#bf16Even}, {@link WeightVectors#bf16Odd});
 * an odd k's last column pairs with zero. A last panel short of rows is padded with zeros. Made once per matrix
 * ({@link WeightMatrix#panels}), in native memory the garbage collector frees with it; it replaces the mapped file
 * pages it was made from.
 */
final class WeightPanels {
    /**
     * Source bytes read between drops of their mapped pages: the copy replaces them as it is made, so a matrix's
     * pages and its copy are never both resident (a tied embedding is half of a small model's weights).
     */
    private static final long DROP_BYTES = 1 << 20;
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** F32 or BF16. */
    final DType dtype;
    /** The elements, regrouped, little-endian as {@link WeightVectors} reads them. */
    final MemorySegment data;
    /** Rows of the matrix. */
    final int rows;
    /** Columns of the matrix. */
    final int cols;
    /** Panels of {@link WeightVectors#L} rows, the last one maybe padded. */
    final int panels;
    /** Elements of a panel, {@code L·k} (BF16: {@code L·2⌈k / 2⌉}). */
    final long panelElements;

    private WeightPanels(DType dtype, MemorySegment data, int rows, int cols, int panels, long panelElements) {
        this.dtype = dtype;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.panels = panels;
        this.panelElements = panelElements;
    }

    /**
     * {@code w} (F32 or BF16) regrouped, its mapped pages dropped before the copy is allocated and then a megabyte of
     * rows at a time as they are copied (when it drops them: {@link WeightMatrix#droppingMappedPages}).
     *
     * @throws IllegalArgumentException when {@code w} is of another type
     */
    static WeightPanels of(WeightMatrix w) {
        DType dtype = w.dtype();
        if (dtype != DType.F32 && dtype != DType.BF16) {
            throw new IllegalArgumentException("not an F32 or BF16 matrix: " + dtype);
        }
        int n = w.rows();
        int k = w.cols();
        int panels = (n + L - 1) / L;
        long panelElements = (long) L * (dtype == DType.BF16 ? (k + 1) / 2 * 2 : k);
        // the allocation is zeroed, every page of it at once: the file's pages go first (read back a megabyte at a
        // time below), or a mapped matrix would be resident twice while it is copied
        w.dropMappedRows(0, n);
        MemorySegment dst = Arena.ofAuto().allocate(Math.max(1, panels * panelElements * dtype.byteSize()), 64);
        WeightPanels p = new WeightPanels(dtype, dst, n, k, panels, panelElements);
        MemorySegment src = w.storedBytes();
        int dropEvery = (int) Math.max(1, DROP_BYTES / Math.max(1, w.rowBytes()));
        for (int j = 0; j < n; j++) {
            if (j > 0 && j % dropEvery == 0) {
                w.dropMappedRows(j - dropEvery, j);
            }
            long row = w.storedRowOffset(j) / dtype.byteSize();
            for (int c = 0; c < k; c++) {
                if (dtype == DType.F32) {
                    dst.setAtIndex(FLOAT_LE, p.index(j, c), src.getAtIndex(F32_LE, row + c));
                } else {
                    dst.setAtIndex(SHORT_LE, p.index(j, c), src.getAtIndex(Numerics.I16_LE, row + c));
                }
            }
        }
        return p;
    }

    /** Index of element {@code (j, c)} in elements of the type (floats, or BF16 halves). */
    long index(int j, int c) {
        long panel = (j / L) * panelElements;
        return dtype == DType.F32 ? panel + (long) c * L + j % L : panel + ((long) (c / 2) * L + j % L) * 2 + c % 2;
    }

    /** Element {@code (j, c)}, widened. */
    float get(int j, int c) {
        long at = index(j, c);
        return dtype == DType.F32 ? data.getAtIndex(FLOAT_LE, at)
                : Float.intBitsToFloat(data.getAtIndex(SHORT_LE, at) << 16);
    }

    /**
     * Row {@code row} into {@code dst[dstOff .. dstOff + cols)}, widened: an embedding lookup of a matrix whose mapped
     * pages this copy replaced reads it here instead of faulting the file's pages back in.
     */
    void copyRow(int row, float[] dst, int dstOff) {
        for (int c = 0; c < cols; c++) {
            dst[dstOff + c] = get(row, c);
        }
    }

    /**
     * Rows {@code [j0, j1)}, columns {@code [k0, k0 + kb)} widened in {@link PackedGemm}'s packing: {@code nr}-row
     * panels, {@code dst[(panel·kb + p)·nr + r] = w[j0 + panel·nr + r, k0 + p]}, zero past {@code j1}. Whole vectors of
     * L rows are copied as they lie when the range starts on a panel of this copy ({@code nr} a multiple of L; for
     * BF16, pairs of columns from an even {@code k0}), else element by element.
     */
    void pack(int j0, int j1, int k0, int kb, int nr, float[] dst) {
        int np = (j1 - j0 + nr - 1) / nr;
        boolean aligned = j0 % L == 0 && nr % L == 0 && (dtype == DType.F32 || k0 % 2 == 0);
        for (int panel = 0; panel < np; panel++) {
            for (int half = 0; half < nr; half += L) {
                int r0 = j0 + panel * nr + half;
                int d = panel * kb * nr + half;
                int p = 0;
                if (aligned && r0 + L <= j1) {
                    p = dtype == DType.F32 ? packF32(r0, k0, kb, nr, dst, d) : packBf16(r0, k0, kb, nr, dst, d);
                }
                for (int r = 0; r < L; r++) {
                    int j = r0 + r;
                    for (int q = p, e = d + p * nr + r; q < kb; q++, e += nr) {
                        dst[e] = j < j1 ? get(j, k0 + q) : 0f;
                    }
                }
            }
        }
    }

    /** The columns of L rows from {@code r0} as whole vectors; returns how many it packed (all). */
    private int packF32(int r0, int k0, int kb, int nr, float[] dst, int d) {
        long at = index(r0, k0);
        for (int p = 0; p < kb; p++, at += L, d += nr) {
            WeightVectors.f32(data, at).intoArray(dst, d);
        }
        return kb;
    }

    /** The pairs of columns of L rows from {@code r0} as whole vectors; returns how many columns it packed. */
    private int packBf16(int r0, int k0, int kb, int nr, float[] dst, int d) {
        long at = index(r0, k0);
        int p = 0;
        for (; p + 2 <= kb; p += 2, at += 2L * L, d += 2 * nr) {
            IntVector pairs = WeightVectors.bf16Pairs(data, at);
            WeightVectors.bf16Even(pairs).intoArray(dst, d);
            WeightVectors.bf16Odd(pairs).intoArray(dst, d + nr);
        }
        return p;
    }
}
