package dev.tailor.tensor;

import static dev.tailor.tensor.PackedGemm.NR;
import static dev.tailor.tensor.PackedGemm.ceilDiv;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * Dequantizing Q8_0 and Q4_0 weights into float buffers for the float kernels: whole rows into a native scratch
 * ({@link QuantGemv}'s several-row path), and panels into {@link PackedGemm}'s packing buffer, for the forward
 * product ({@link #packTransposed}, W's rows become the panel's columns) and for the input gradient
 * ({@link #packRows}, W's rows are the panel's rows). Packing is where the floats are made: the micro-kernels then
 * run unchanged, so a packed quantized product has the bits of the packed F32 product over the dequantized weights.
 * A Q4_0 or Q8_0 matrix mapped from a file packs its forward panels from the regrouped copy decoding makes
 * ({@link #packRegrouped}), whose pages it replaced.
 * Vectors come from {@link QuantVectors}; where it has none ({@link QuantVectors#SUPPORTED} false), or for ragged
 * pieces, elements are dequantized one by one with {@link Quantization}.
 */
final class QuantPack {
    /**
     * Whether a mapped Q4_0 or Q8_0 matrix packs from its regrouped copy ({@link #regrouped}): where the copy's
     * groups are the panels' width and vectors of bytes dequantize them (not with vectors of 4 floats).
     */
    static final boolean PACKS_REGROUPED = QuantVectors.SUPPORTED && InterleavedBlocks.ROWS == NR;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Per-thread native scratch for one dequantized {@code L × L} block (native, as {@link PackedGemm#pack} explains). */
    private static final ThreadLocal<MemorySegment> BLOCK =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate((long) L * L * Float.BYTES, 64));
    /** Per-thread scratch for one dequantized row ({@link #dequantizeRow}). */
    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

    private QuantPack() {
    }

    /** Rows {@code [r0, r1)} of W dequantized into {@code dst} as row-major floats {@code [r1 - r0, cols]}. */
    static void dequantizeRows(WeightMatrix w, int r0, int r1, MemorySegment dst) {
        int k = w.cols();
        long rowBytes = w.rowBytes();
        MemorySegment seg = w.data();
        if (!QuantVectors.SUPPORTED || !QuantVectors.inRegisters(w.dtype())) {
            float[] row = Scratch.floats(ROW, k);
            for (int r = r0; r < r1; r++) {
                dequantizeRow(w, r, 0, k, row);
                MemorySegment.copy(row, 0, dst, Numerics.F32_LE, (long) (r - r0) * k * Float.BYTES, k);
            }
            return;
        }
        int blocks = k >>> 5;
        for (int r = r0; r < r1; r++) {
            long src = r * rowBytes;
            long out = (long) (r - r0) * k * Float.BYTES;
            if (w.dtype() == DType.Q8_0) {
                for (int b = 0; b < blocks; b++) {
                    long at = src + b * 34L;
                    float d = QuantVectors.scale(seg, at);
                    for (int h = 0; h < QuantVectors.CHUNKS; h++) {
                        QuantVectors.q8(seg, at, h, d).intoMemorySegment(dst, out + (b * 32L + h * L) * Float.BYTES, LE);
                    }
                }
            } else {
                for (int b = 0; b < blocks; b++) {
                    long at = src + b * 18L;
                    float d = QuantVectors.scale(seg, at);
                    for (int h = 0; h < QuantVectors.CHUNKS; h++) {
                        QuantVectors.q4(seg, at, h, d).intoMemorySegment(dst, out + (b * 32L + h * L) * Float.BYTES, LE);
                    }
                }
            }
        }
    }

    /**
     * {@link PackedGemm#pack} for Q8_0/Q4_0 W: rows {@code [j0, j1)}, columns {@code [k0, k0 + kb)} as
     * {@code [panel][p][NR]}, zero-padded. Full {@code L × L} blocks (k0 a multiple of L, as {@link PackedGemm}
     * aligns its k blocks to whole quantization blocks) are dequantized into a per-thread native block and transposed
     * in registers; ragged rows and a k tail are dequantized element by element.
     */
    static void packTransposed(WeightMatrix w, int j0, int j1, int k0, int kb, float[] dst) {
        InterleavedBlocks regrouped = regrouped(w);
        boolean wholeGroups = j0 % NR == 0 && (j1 % NR == 0 || j1 == w.rows());
        if (regrouped != null && wholeGroups && k0 % Quantization.QK == 0 && kb % Quantization.QK == 0) {
            packRegrouped(regrouped, j0, j1, k0, kb, dst);
            return;
        }
        if (!QuantVectors.inRegisters(w.dtype())) {
            packTransposedByRows(w, j0, j1, k0, kb, dst);
            return;
        }
        int np = ceilDiv(j1 - j0, NR);
        boolean vectors = QuantVectors.SUPPORTED && k0 % L == 0;
        int kFull = vectors ? kb / L * L : 0;
        MemorySegment block = BLOCK.get();
        long rowBytes = w.rowBytes();
        for (int panel = 0; panel < np; panel++) {
            int base = panel * kb * NR;
            for (int half = 0; half < NR; half += L) {
                int r0 = j0 + panel * NR + half;
                int p0 = 0;
                if (r0 + L <= j1) {
                    for (; p0 < kFull; p0 += L) {
                        for (int r = 0; r < L; r++) {
                            QuantVectors.at(w.data(), w.dtype(), (r0 + r) * rowBytes, k0 + p0)
                                    .intoMemorySegment(block, (long) r * L * Float.BYTES, LE);
                        }
                        int d = base + p0 * NR + half;
                        if (L == 16) {
                            PackedGemm.transposeBlock(block, 0, L * Float.BYTES, dst, d, NR);
                        } else {
                            PackedGemm.transposeAnyWidth(block, dst, d);
                        }
                    }
                }
                for (int c = 0; c < L; c++) {
                    int j = r0 + c;
                    for (int p = p0, d = base + p0 * NR + half + c; p < kb; p++, d += NR) {
                        dst[d] = j < j1 ? w.get(j, k0 + p) : 0f;
                    }
                }
            }
        }
    }

    /**
     * The regrouped copy to pack a mapped Q4_0 or Q8_0 matrix from ({@link WeightMatrix#droppingMappedPages}): the
     * copy decoding makes replaces the mapped pages, and packing from it does not read them back into memory. Its
     * groups of {@link InterleavedBlocks#ROWS} rows are the panels' {@link PackedGemm#NR} columns. Null for any other
     * matrix, which packs from its own bytes.
     */
    private static InterleavedBlocks regrouped(WeightMatrix w) {
        return PACKS_REGROUPED && w.dropsMappedPages() && IntegerGemv.handles(w) ? w.interleaved() : null;
    }

    /**
     * {@link #packTransposed} from the regrouped copy: panel p is group {@code j0 / NR + p}, and each of its rows
     * (one element of the panel's W rows) two vectors of bytes dequantized with the rows' block scales, the values
     * and bits of packing from the matrix's own bytes. Rows past the matrix's last are zero bytes with zero scales,
     * so a last panel's columns past {@code j1} come out zero.
     */
    private static void packRegrouped(InterleavedBlocks g, int j0, int j1, int k0, int kb, float[] dst) {
        int np = ceilDiv(j1 - j0, NR);
        int rows = InterleavedBlocks.ROWS;
        boolean q8 = g.dtype == DType.Q8_0;
        for (int panel = 0; panel < np; panel++) {
            int group = j0 / NR + panel;
            int base = panel * kb * NR;
            for (int p0 = 0; p0 < kb; p0 += Quantization.QK) {
                int block = group * g.blocks + (k0 + p0) / Quantization.QK;
                FloatVector d0 = WeightVectors.f16Finite(g.scales, (long) block * rows);
                FloatVector d1 = WeightVectors.f16Finite(g.scales, (long) block * rows + L);
                FloatVector o0 = d0.mul(-8f);
                FloatVector o1 = d1.mul(-8f);
                long at = (long) block * g.blockQuants * rows;
                for (int e = 0; e < Quantization.QK; e++) {
                    int d = base + (p0 + e) * NR;
                    if (q8) {
                        long q = at + (long) e * rows;
                        QuantVectors.q8Rows(g.quants, q, d0).intoArray(dst, d);
                        QuantVectors.q8Rows(g.quants, q + L, d1).intoArray(dst, d + L);
                    } else {
                        // a row's bytes j - j % 2 and j - j % 2 + 1 share its 16-bit lane, byte j the low or high half
                        int j = e & 15;
                        long q = at + (long) (j & ~1) * rows;
                        int shift = 8 * (j & 1) + (e >= 16 ? 4 : 0);
                        QuantVectors.q4Rows(g.quants, q, shift, d0, o0).intoArray(dst, d);
                        QuantVectors.q4Rows(g.quants, q + 2 * L, shift, d1, o1).intoArray(dst, d + L);
                    }
                }
            }
        }
    }

    /**
     * {@link InputGradGemm#pack} for Q8_0/Q4_0 W: W rows {@code [p0, p0 + kb)}, columns {@code [c0, c1)} as
     * {@code [panel][p][NR]} ({@code c0} a multiple of {@link PackedGemm#NR}), each panel row two dequantized vectors
     * of one W row; a ragged last panel element by element, zero-padded.
     */
    static void packRows(WeightMatrix w, int c0, int c1, int p0, int kb, float[] dst) {
        if (!QuantVectors.inRegisters(w.dtype())) {
            packRowsByRows(w, c0, c1, p0, kb, dst);
            return;
        }
        int full = QuantVectors.SUPPORTED && c0 % L == 0 ? (c1 - c0) / NR : 0;
        long rowBytes = w.rowBytes();
        MemorySegment seg = w.data();
        DType type = w.dtype();
        for (int p = 0; p < kb; p++) {
            long row = (p0 + p) * rowBytes;
            for (int q = 0; q < full; q++) {
                int d = q * kb * NR + p * NR;
                int c = c0 + q * NR;
                FloatVector lo = QuantVectors.at(seg, type, row, c);
                FloatVector hi = QuantVectors.at(seg, type, row, c + L);
                lo.intoArray(dst, d);
                hi.intoArray(dst, d + L);
            }
        }
        for (int q = full; q * NR < c1 - c0; q++) {
            int base = q * kb * NR;
            for (int p = 0; p < kb; p++) {
                int d = base + p * NR;
                for (int jj = 0; jj < NR; jj++) {
                    int c = c0 + q * NR + jj;
                    dst[d + jj] = c < c1 ? w.get(p0 + p, c) : 0f;
                }
            }
        }
    }

    /**
     * {@link #packTransposed} for a type dequantized by rows (the K-quants): each W row's columns
     * {@code [k0, k0 + kb)} (whole blocks but at the row's end: {@link PackedGemm} aligns k blocks to the type's
     * block) dequantized into a per-thread row, then scattered into its panel column.
     */
    private static void packTransposedByRows(WeightMatrix w, int j0, int j1, int k0, int kb, float[] dst) {
        int np = ceilDiv(j1 - j0, NR);
        float[] row = Scratch.floats(ROW, kb);
        for (int panel = 0; panel < np; panel++) {
            int base = panel * kb * NR;
            for (int c = 0; c < NR; c++) {
                int j = j0 + panel * NR + c;
                if (j < j1) {
                    dequantizeRow(w, j, k0, kb, row);
                    for (int p = 0, d = base + c; p < kb; p++, d += NR) {
                        dst[d] = row[p];
                    }
                } else {
                    for (int p = 0, d = base + c; p < kb; p++, d += NR) {
                        dst[d] = 0f;
                    }
                }
            }
        }
    }

    /**
     * {@link #packRows} for a type dequantized by rows (the K-quants): each W row {@code p0 + p} dequantized whole
     * into a per-thread row, its columns {@code [c0, c1)} copied into the panels.
     */
    private static void packRowsByRows(WeightMatrix w, int c0, int c1, int p0, int kb, float[] dst) {
        int cols = w.cols();
        float[] row = Scratch.floats(ROW, cols);
        int panels = ceilDiv(c1 - c0, NR);
        for (int p = 0; p < kb; p++) {
            dequantizeRow(w, p0 + p, 0, cols, row);
            for (int q = 0; q < panels; q++) {
                int d = q * kb * NR + p * NR;
                for (int jj = 0; jj < NR; jj++) {
                    int c = c0 + q * NR + jj;
                    dst[d + jj] = c < c1 ? row[c] : 0f;
                }
            }
        }
    }

    /**
     * Columns {@code [c0, c0 + n)} of W's row {@code r} into {@code dst[0, n)} ({@code c0} and {@code n} whole
     * blocks): by {@link KQuantRows} for the K-quants, by {@link Quantization} for the others.
     */
    private static void dequantizeRow(WeightMatrix w, int r, int c0, int n, float[] dst) {
        DType type = w.dtype();
        long at = r * w.rowBytes() + (long) (c0 / type.blockSize()) * type.blockBytes();
        if (QuantVectors.inRegisters(type)) {
            Quantization.dequantizeRow(type, w.data(), at, n, dst, 0);
        } else {
            KQuantRows.dequantize(type, w.data(), at, n, dst, 0);
        }
    }
}
