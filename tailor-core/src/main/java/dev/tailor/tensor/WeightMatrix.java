package dev.tailor.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;

/**
 * A row-major matrix {@code [rows, cols]} read in place from memory (usually a memory-mapped model
 * file): a linear layer's weight is {@code [out_features, in_features]}. Elements stay in their
 * file's type and are widened to float inside the kernels.
 *
 * <p>A block-quantized matrix ({@link DType#isQuantized()}) stores each row as its {@code cols / blockSize} blocks,
 * rows back to back, as GGUF files do; its {@code cols} must be a multiple of the block size, and its bytes must be
 * native memory (an arena allocation or a plain view of a mapped file): the kernels' vector loads are compiled against
 * the segment classes a process uses, and heap-array segments of bytes would add a class to every weight load. All
 * are multiplied in place ({@link DType#hasKernels()}): Q8_0 and Q4_0 dequantized in registers, K-quants a few rows or
 * a panel at a time. A Q8_0 matrix multiplied one row of X at a time (decoding) also keeps its blocks' F16 scales
 * widened to floats ({@link #blockScales}), 4 bytes per 32 weights, and a Q4_0 matrix (or a Q8_0 one mapped from a
 * file) multiplied by few rows keeps a regrouped copy of its blocks, the same bytes, for the integer products
 * ({@link #interleaved}), both made on first use; so does an F32 or BF16 matrix mapped from a file, its rows
 * regrouped into panels ({@link #panels}). A matrix whose file stores its rows in another order ({@link #permuted})
 * regroups them from the file's bytes, and makes a copy in order only if something reads {@link #data}.
 *
 * <p>Two matrices are equal when they have the same memory, type and shape.
 */
public final class WeightMatrix {
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The bytes in row order; null for a {@link #permuted} matrix, whose {@link #inOrder} makes them. */
    private final MemorySegment data;
    /** The bytes as stored: {@link #data}, or a {@link #permuted} matrix's file bytes. */
    private final MemorySegment stored;
    /** Which row of {@link #stored} holds each row; null when they are in order. */
    private final IntUnaryOperator storedRow;
    /** Makes a {@link #permuted} matrix's bytes in row order, once, on first use ({@link #inOrderBytes}). */
    private final Supplier<MemorySegment> inOrder;
    /** {@link #inOrder}'s bytes once made. */
    private volatile MemorySegment inOrderBytes;
    private final DType dtype;
    private final int rows;
    private final int cols;
    /** {@link #blockScales}, once made. */
    private volatile float[] blockScales;
    /** The regrouped copy once made: {@link #interleaved} or {@link #panels}, whichever this matrix's type has. */
    private volatile Object regrouped;
    /** Drops the mapped file pages {@link #stored} lies in, as a regrouped copy is made; null for none. */
    private final MappedPages dropMappedPages;

    /**
     * A matrix over {@code data}.
     *
     * @param data  the bytes, {@code rows · dtype.bytesFor(cols)} long
     * @param dtype F32, F16, BF16 or a block-quantized type
     * @param rows  number of rows (output features)
     * @param cols  number of columns (input features)
     * @throws IllegalArgumentException if the type is not a weight type, the shape is negative or not whole blocks,
     *                                  a quantized matrix is not in native memory, or {@code data} has the wrong size
     */
    public WeightMatrix(MemorySegment data, DType dtype, int rows, int cols) {
        this(data, null, null, dtype, rows, cols, null);
    }

    private WeightMatrix(MemorySegment stored, IntUnaryOperator storedRow, Supplier<MemorySegment> inOrder,
                         DType dtype, int rows, int cols, MappedPages dropMappedPages) {
        if (!dtype.isWeightType() && !dtype.isQuantized()) {
            throw new IllegalArgumentException("weights must be F32, F16, BF16 or block-quantized, not " + dtype);
        }
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("weight shape [" + rows + ", " + cols + "] is negative");
        }
        if (cols % dtype.blockSize() != 0) {
            throw new IllegalArgumentException("a " + dtype + " weight's rows are blocks of " + dtype.blockSize()
                    + " elements, but it has " + cols + " columns");
        }
        if (dtype.isQuantized() && !stored.isNative()) {
            throw new IllegalArgumentException("a " + dtype + " weight must be in native memory (an arena or a "
                    + "mapped file), not a heap segment");
        }
        long expected = rows * dtype.bytesFor(cols);
        if (stored.byteSize() != expected) {
            throw new IllegalArgumentException("weight [" + rows + ", " + cols + "] " + dtype + " needs "
                    + expected + " bytes, got " + stored.byteSize());
        }
        this.data = storedRow == null ? stored : null;
        this.stored = stored;
        this.storedRow = storedRow;
        this.inOrder = inOrder;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
        this.dropMappedPages = dropMappedPages;
    }

    /**
     * This matrix, whose bytes are mapped in place from a file, with the way to drop those pages from resident
     * memory (a tensor source's {@code dropMappedPages}): used as the products make their regrouped copy of a Q4_0,
     * Q8_0, F32 or BF16 matrix ({@link #interleaved}, {@link #panels}), a megabyte of rows at a time and the whole
     * matrix once made, so that decoding does not hold the weights twice, not even while the copy is made. The bytes
     * stay valid; what reads them later (training, an export; a prefill's packed panels before the copy is made)
     * reads the file's pages again. A slice ({@link #rows(int, int)}) does not drop them.
     */
    public WeightMatrix droppingMappedPages(MappedPages drop) {
        return new WeightMatrix(stored, storedRow, inOrder, dtype, rows, cols, Objects.requireNonNull(drop));
    }

    /**
     * A matrix whose file stores its rows in another order (GGUF's Q and K): row {@code r} is row
     * {@code storedRow.applyAsInt(r)} of {@code stored}. Its regrouped copies ({@link #interleaved}, {@link #panels})
     * and row reads ({@link #get}, {@link #copyRow}) read {@code stored}; {@link #data} asks {@code inOrder} for the
     * bytes in row order on first use (a copy, which then stays), so that decoding does not hold a copy in order beside
     * the regrouped one. {@link #droppingMappedPages} drops pages of {@code stored}.
     *
     * @throws IllegalArgumentException as the constructor, for {@code stored}
     */
    public static WeightMatrix permuted(MemorySegment stored, IntUnaryOperator storedRow,
                                        Supplier<MemorySegment> inOrder, DType dtype, int rows, int cols) {
        return new WeightMatrix(stored, Objects.requireNonNull(storedRow), Objects.requireNonNull(inOrder), dtype,
                rows, cols, null);
    }

    /**
     * Drops the mapped pages of rows {@code [from, to)} from resident memory where this matrix may drop them
     * ({@link #droppingMappedPages}): for a copy made row by row, so that the rows copied do not stay resident until
     * the whole matrix is.
     */
    void dropMappedRows(int from, int to) {
        if (dropMappedPages != null && to > from && (storedRow == null || from == 0 && to == rows)) {
            dropMappedPages.drop(from * rowBytes(), to * rowBytes());
        }
    }

    /** The bytes as stored: {@link #data}, or a {@link #permuted} matrix's, for readers of single rows. */
    MemorySegment storedBytes() {
        return stored;
    }

    /** Where row {@code r} starts in {@link #storedBytes}. */
    long storedRowOffset(int r) {
        return (storedRow == null ? r : storedRow.applyAsInt(r)) * rowBytes();
    }

    /** The way to drop a matrix's mapped file pages: its bytes {@code [from, to)}, whole pages (a tensor source's). */
    @FunctionalInterface
    public interface MappedPages {
        /** Drops the pages holding bytes {@code [from, to)} of the matrix from resident memory. */
        void drop(long from, long to);
    }

    /**
     * Makes now the regrouped copy this matrix's products would make on first use, if they use one (a Q4_0 matrix, or
     * a Q8_0, F32 or BF16 one that drops its mapped pages): for a caller about to read rows of a matrix it also
     * multiplies by (a tied embedding), so that the rows come from the copy and do not fault the dropped pages back in,
     * which on a kernel with large folios maps up to 2 MiB of the file per row read.
     */
    public void prepareRegroupedCopy() {
        if (IntegerGemv.handles(this)) {
            interleaved();
        } else if (PanelGemv.handles(this)) {
            panels();
        }
    }

    /** Whether the regrouped copy its products use ({@link #prepareRegroupedCopy}) is made. */
    public boolean hasRegroupedCopy() {
        return regrouped != null;
    }

    /**
     * Whether this matrix's bytes are a file's pages mapped in place, which it drops once regrouped
     * ({@link #droppingMappedPages}); a Q8_0 matrix takes the integer products only then.
     */
    public boolean dropsMappedPages() {
        return dropMappedPages != null;
    }

    /**
     * The bytes in row order, {@code rows · dtype.bytesFor(cols)} long (a {@link #permuted} matrix's made on first
     * use).
     */
    public MemorySegment data() {
        return data != null ? data : inOrderBytes();
    }

    private MemorySegment inOrderBytes() {
        MemorySegment d = inOrderBytes;
        if (d == null) {
            synchronized (this) {
                d = inOrderBytes;
                if (d == null) {
                    d = inOrder.get();
                    if (d.byteSize() != stored.byteSize()) {
                        throw new IllegalStateException("the rows in order are " + d.byteSize() + " bytes, not "
                                + stored.byteSize());
                    }
                    inOrderBytes = d;
                }
            }
        }
        return d;
    }

    /** F32, F16, BF16 or a block-quantized type. */
    public DType dtype() {
        return dtype;
    }

    /** Number of rows (output features). */
    public int rows() {
        return rows;
    }

    /** Number of columns (input features). */
    public int cols() {
        return cols;
    }

    /**
     * The F16 scales of a Q8_0 or Q4_0 matrix's blocks widened to float, row-major {@code [rows, cols / 32]}, made on
     * first use and kept. The Q8_0 one-row kernel reads them instead of widening each block's scale per product:
     * widening four rows' scales per block was a third of its work. Like the kernels'
     * other reads, they assume a quantized matrix's bytes no longer change once it is multiplied (they are written when
     * it is made: quantized at load or mapped from a file).
     */
    float[] blockScales() {
        float[] s = blockScales;
        if (s == null) {
            synchronized (this) {
                s = blockScales;
                if (s == null) {
                    s = Quantization.blockScales(dtype, data(), rows, cols);
                    blockScales = s;
                }
            }
        }
        return s;
    }

    /**
     * A Q4_0 or Q8_0 matrix's rows regrouped for the integer products ({@link IntegerGemv}), made on first use and
     * kept: a second copy of the weights in memory (the first one's mapped pages are then dropped, see
     * {@link #droppingMappedPages}), as {@link #blockScales} assumes the bytes no longer change.
     */
    InterleavedBlocks interleaved() {
        return (InterleavedBlocks) regrouped(InterleavedBlocks::of);
    }

    /**
     * An F32 or BF16 matrix mapped from a file regrouped for {@link PanelGemv}, made on first use and kept: a second
     * copy of the weights (the first one's mapped pages are then dropped, see {@link #droppingMappedPages}), which
     * assumes the bytes no longer change, as a file's do not.
     */
    WeightPanels panels() {
        return (WeightPanels) regrouped(WeightPanels::of);
    }

    /** {@link #panels} if they are made, else null: for readers that would not make them themselves. */
    WeightPanels panelsIfMade() {
        return regrouped instanceof WeightPanels p ? p : null;
    }

    /** The regrouped copy, made by {@code make} (which refuses another type) on first use, the mapped pages dropped. */
    private Object regrouped(Function<WeightMatrix, ?> make) {
        Object r = regrouped;
        if (r == null) {
            synchronized (this) {
                r = regrouped;
                if (r == null) {
                    r = make.apply(this);
                    regrouped = r;
                    if (dropMappedPages != null) {
                        dropMappedPages.drop(0, stored.byteSize());
                    }
                }
            }
        }
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightMatrix w && stored.equals(w.stored) && Objects.equals(storedRow, w.storedRow)
                && dtype == w.dtype && rows == w.rows && cols == w.cols;
    }

    @Override
    public int hashCode() {
        return Objects.hash(stored, dtype, rows, cols);
    }

    @Override
    public String toString() {
        return "WeightMatrix[" + dtype + " " + rows + "x" + cols + "]";
    }

    /** A heap-backed F32 matrix over {@code values} (for trainable or test weights). */
    public static WeightMatrix of(float[] values, int rows, int cols) {
        return new WeightMatrix(MemorySegment.ofArray(values), DType.F32, rows, cols);
    }

    /**
     * {@code source} quantized row by row to {@code type} (Q8_0 or Q4_0) with ggml's reference quantizers
     * ({@link Quantization#quantizeRow}), in native memory from {@code arena}.
     *
     * @throws IllegalArgumentException if {@code type} is not Q8_0 or Q4_0, or the columns are not a multiple of 32
     */
    public static WeightMatrix quantize(WeightMatrix source, DType type, Arena arena) {
        if (type != DType.Q8_0 && type != DType.Q4_0) {
            throw new IllegalArgumentException("can quantize to Q8_0 or Q4_0, not " + type);
        }
        long rowBytes = type.bytesFor(source.cols);
        MemorySegment out = arena.allocate(source.rows * rowBytes, 64);
        float[] row = new float[source.cols];
        for (int r = 0; r < source.rows; r++) {
            source.copyRow(r, row, 0);
            Quantization.quantizeRow(type, row, 0, source.cols, out, r * rowBytes);
        }
        return new WeightMatrix(out, type, source.rows, source.cols);
    }

    /** This matrix widened to F32 in native memory from {@code arena} (a copy, whatever the type). */
    public WeightMatrix dequantize(Arena arena) {
        long bytes = (long) rows * cols * Float.BYTES;
        MemorySegment out = arena.allocate(bytes, 64);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            copyRow(r, row, 0);
            MemorySegment.copy(row, 0, out, F32_LE, (long) r * cols * Float.BYTES, cols);
        }
        return new WeightMatrix(out, DType.F32, rows, cols);
    }

    /** Bytes per row: {@code dtype.bytesFor(cols)}. */
    public long rowBytes() {
        return dtype.bytesFor(cols);
    }

    /** Rows {@code [from, to)} as a matrix of their own, a view of the same memory. */
    public WeightMatrix rows(int from, int to) {
        if (from < 0 || to < from || to > rows) {
            throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a [" + rows + ", " + cols
                    + "] weight");
        }
        long row = rowBytes();
        return new WeightMatrix(data().asSlice(from * row, (to - from) * row), dtype, to - from, cols);
    }

    /** Element {@code (r, c)} widened to float (slow path: tests, embeddings lookups). */
    public float get(int r, int c) {
        if (dtype.isQuantized()) {
            return Quantization.element(dtype, stored, storedRowOffset(r), c);
        }
        return Numerics.load(stored, dtype, storedRowOffset(r) / dtype.byteSize() + c);
    }

    /**
     * Copies row {@code r} into {@code dst[dstOff .. dstOff + cols)}, widened to float; from the regrouped copy once
     * it is made ({@link #interleaved}, {@link #panels}), so that a lookup does not read dropped pages back into
     * memory.
     */
    public void copyRow(int r, float[] dst, int dstOff) {
        Object copy = regrouped;
        if (copy instanceof InterleavedBlocks g) {
            Objects.checkIndex(r, rows);
            g.copyRow(r, dst, dstOff);
            return;
        }
        if (copy instanceof WeightPanels p) {
            Objects.checkIndex(r, rows);
            Objects.checkFromIndexSize(dstOff, cols, dst.length);
            p.copyRow(r, dst, dstOff);
            return;
        }
        if (dtype.isQuantized()) {
            Quantization.dequantizeRow(dtype, stored, storedRowOffset(r), cols, dst, dstOff);
            return;
        }
        long at = storedRowOffset(r);
        if (dtype == DType.F32) {
            MemorySegment.copy(stored, F32_LE, at, dst, dstOff, cols);
            return;
        }
        for (int c = 0; c < cols; c++) {
            dst[dstOff + c] = Numerics.load(stored, dtype, at / dtype.byteSize() + c);
        }
    }
}
