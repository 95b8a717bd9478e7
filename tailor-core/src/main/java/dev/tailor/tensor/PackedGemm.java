package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * {@code Y = X·Wᵀ} for many rows of X (prefill, training): W packed into cache-sized panels, register-blocked.
 *
 * <p>Loop nest (BLIS-style, with W in the role of BLIS's vector operand): the columns of Y (rows of W) are
 * cut into groups of {@link #NR}-wide panels whose packed copy fits in L2 — the parallel tasks, of shrinking size
 * ({@link Parallel#guidedBounds}) so that the threads finish together. A task walks
 * k in blocks of at most {@link #KC_MAX}; per block it packs its W rows into {@code [panel][p][NR]} floats
 * (widened from BF16/F16 once here), then for every {@link #MR}-row tile of X (which stays in L1) runs the
 * micro-kernel over each panel. The micro-kernel keeps an {@code MR × NR} tile of Y in {@code 2·MR} vector
 * registers and per k step does two vector loads of W, MR broadcasts of X and {@code 2·MR} FMAs. It stores its
 * registers to Y itself, without passing a vector to a call (one that C2 does not inline gets its vectors boxed),
 * and only whole vectors: ragged column panels are zero-padded in the pack, and they and tiles to be added to Y are
 * computed into a scratch tile whose valid columns are then copied or added ({@link #kernel}). Leftover rows use
 * 6- and 2-row kernels and {@link MatMulNN}'s 4- and 1-row tiles, which read the packed panel as a row-major matrix
 * with row stride {@link #NR}.
 *
 * <p>Q8_0 and Q4_0 weights are dequantized into the packing buffer ({@link QuantPack#packTransposed}), k blocks
 * then covering whole quantization blocks; the micro-kernels are the same.
 *
 * <p>The loop nest takes the right operand through a {@link PanelPacker}, so the backward pass's
 * {@code dX = dY·W} ({@link InputGradGemm}) runs on it too; {@link WeightGradGemm} reuses the micro-kernels.
 */
final class PackedGemm {
    /**
     * Rows of X per micro-tile: 14 with AVX-512's 32 vector registers ({@link #micro14}), else 4
     * ({@link MatMulNN#tile4x2}). Without AVX-512 an FMA cannot take its broadcast from memory, and C2 loads a k
     * step's broadcasts and W vectors before its FMAs: with 6 rows that is 12 accumulators and 8 loaded vectors in
     * AVX2's 16 registers, and C2 kept 5 accumulators on the stack (each FMA then a load and a store; on an AMD Zen 3,
     * {@code X·Wᵀ} ran at 55-70 GFLOP/s on two cores against 86-122 with 4 rows, whose 8 accumulators and 6 loads
     * fit).
     */
    static final int MR = L == 16 ? 14 : 4;
    /** Columns of Y per micro-tile (two vectors). */
    static final int NR = 2 * L;
    /**
     * Largest k block: a product over a 576-wide hidden state (the reference shape's attention projections, MLP
     * inputs and lm_head) is one block, so Y is written once instead of written, read back and written again (for the
     * lm_head, 50 MB of logits); a LoRA step is ~5% faster than with 512. An MR-row tile of X is then 32 KB at 14 rows
     * (half of it with blocks of 288, which measured no faster).
     */
    static final int KC_MAX = 576;
    /** Target size of one task's packed W group (half of a 1 MiB L2). */
    static final int GROUP_BYTES = 512 * 1024;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Per-thread native scratch for one widened {@code L × L} block (native, as {@link #pack} explains). */
    private static final ThreadLocal<MemorySegment> BLOCK =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate((long) L * L * Float.BYTES, 64));
    private static final float[] SWAP_INDEX = swapIndex();
    // The index vectors of the 16-lane transpose's stages, in SWAP_INDEX order (used only when L == 16).
    private static final FloatVector S8_LO = swapVector(0);
    private static final FloatVector S8_HI = swapVector(1);
    private static final FloatVector S4_LO = swapVector(2);
    private static final FloatVector S4_HI = swapVector(3);
    private static final FloatVector S2_LO = swapVector(4);
    private static final FloatVector S2_HI = swapVector(5);
    private static final FloatVector S1_LO = swapVector(6);
    private static final FloatVector S1_HI = swapVector(7);
    private static final ThreadLocal<float[]> PACK = ThreadLocal.withInitial(() -> new float[0]);
    /** Per-thread scratch for a ragged tile. */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[MR * NR]);

    private PackedGemm() {
    }

    /** {@code y[yOff + i·n + j] = Σ_c x[xOff + i·k + c] · w[j, c]} for {@code i < m}. */
    static void run(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff) {
        run(x, xOff, m, w.rows(), w.cols(), (j0, j1, k0, kb, dst) -> pack(w, j0, j1, k0, kb, dst), y, yOff, false,
                w.dtype().blockSize());
    }

    /**
     * {@code y[yOff + i·n + j] = Σ_p x[xOff + i·k + p] · b[p, j]} for {@code i < m}, {@code j < n}, with the
     * right operand B {@code [k, n]} supplied panel by panel by {@code packer}; {@code k > 0}.
     */
    static void run(float[] x, int xOff, int m, int n, int k, PanelPacker packer, float[] y, int yOff) {
        run(x, xOff, m, n, k, packer, y, yOff, false);
    }

    /** {@link #run(float[], int, int, int, int, PanelPacker, float[], int)}, adding into y when {@code accumulate}. */
    static void run(float[] x, int xOff, int m, int n, int k, PanelPacker packer, float[] y, int yOff,
                    boolean accumulate) {
        run(x, xOff, m, n, k, packer, y, yOff, accumulate, 1);
    }

    /**
     * {@link #run(float[], int, int, int, int, PanelPacker, float[], int, boolean)} with k blocks a multiple of
     * {@code kStep} long (but the last), so that a block-quantized W is packed in whole quantization blocks.
     */
    static void run(float[] x, int xOff, int m, int n, int k, PanelPacker packer, float[] y, int yOff,
                    boolean accumulate, int kStep) {
        int kc = ceilDiv(ceilDiv(k, ceilDiv(k, KC_MAX)), kStep) * kStep;
        int panels = ceilDiv(n, NR);
        int threads = Parallel.threads();
        int maxPanels = Math.max(1, GROUP_BYTES / (kc * NR * Float.BYTES));
        int[] groups = Parallel.guidedBounds(panels, maxPanels);
        int tasks = groups.length - 1;
        int rowTiles = ceilDiv(m, MR);
        int mChunks = tasks >= threads ? 1 : Math.min(rowTiles, ceilDiv(threads, tasks));
        Parallel.parallelFor(tasks * mChunks, t -> {
            int g = t / mChunks;
            int c = t % mChunks;
            int j0 = groups[g] * NR;
            int j1 = Math.min(n, groups[g + 1] * NR);
            int i0 = (int) ((long) rowTiles * c / mChunks) * MR;
            int i1 = Math.min(m, (int) ((long) rowTiles * (c + 1) / mChunks) * MR);
            block(x, xOff, n, k, packer, y, yOff, i0, i1, j0, j1, kc, accumulate);
        });
    }

    /** Supplies the right operand B {@code [k, n]} of {@link #run} in packed panels. */
    @FunctionalInterface
    interface PanelPacker {
        /**
         * Writes B's columns {@code [j0, j1)}, rows {@code [k0, k0 + kb)} into {@code dst} as
         * {@code [panel][p][NR]}: {@code dst[(j - j0) / NR · kb · NR + p · NR + (j - j0) % NR] = b[k0 + p, j]},
         * with the columns of the last panel past {@code j1} set to zero.
         */
        void pack(int j0, int j1, int k0, int kb, float[] dst);
    }

    private static void block(float[] x, int xOff, int n, int k, PanelPacker packer, float[] y, int yOff,
                              int i0, int i1, int j0, int j1, int kc, boolean accumulate) {
        int np = ceilDiv(j1 - j0, NR);
        float[] pack = Scratch.floats(PACK, np * kc * NR);
        for (int k0 = 0; k0 < k; k0 += kc) {
            int kb = Math.min(kc, k - k0);
            packer.pack(j0, j1, k0, kb, pack);
            boolean first = !accumulate && k0 == 0;
            int i = i0;
            for (; i + MR <= i1; i += MR) {
                for (int p = 0; p < np; p++) {
                    int jp = j0 + p * NR;
                    kernel(x, xOff + i * k + k0, k, pack, p * kb * NR, kb,
                            y, yOff + i * n + jp, n, Math.min(NR, j1 - jp), first);
                }
            }
            if (i < i1) {
                for (int p = 0; p < np; p++) {
                    int jp = j0 + p * NR;
                    kernelTail(i1 - i, x, xOff + i * k + k0, k, pack, p * kb * NR, kb,
                            y, yOff + i * n + jp, n, Math.min(NR, j1 - jp), first);
                }
            }
        }
    }

    /**
     * Packs W rows {@code [j0, j1)}, columns {@code [k0, k0 + kb)} as {@code [panel][p][NR]}, zero-padded.
     * Full {@code L × L} blocks are transposed in registers, read straight from W when it is F32 in native
     * memory (a mapped file), otherwise first widened into a per-thread native block: the transpose then only
     * ever reads native segments, so its loads stay monomorphic, and it holds no widening code (sixteen inlined
     * BF16/F16 widenings exceed C2's inlining node budget, and the rows left un-inlined are boxed). BF16 in native
     * memory is read straight too, {@code L × 2L} at a time: its rows' pairs of elements are transposed as 32-bit
     * lanes into every other panel row, then each pair widened into its two rows ({@link #widenPairs}). Ragged rows
     * and the k tail are copied one by one. An F32 or BF16 matrix whose regrouped copy is made ({@link WeightPanels})
     * is packed from the copy, whose panels of L rows are the packing's halves (same values), so a prompt does not
     * read the mapped pages it replaced back in.
     */
    static void pack(WeightMatrix w, int j0, int j1, int k0, int kb, float[] dst) {
        if (w.dtype().isQuantized()) {
            QuantPack.packTransposed(w, j0, j1, k0, kb, dst);
            return;
        }
        WeightPanels panels = w.panelsIfMade();
        if (panels != null) {
            panels.pack(j0, j1, k0, kb, NR, dst);
            return;
        }
        int np = ceilDiv(j1 - j0, NR);
        boolean direct = L == 16 && w.dtype() == DType.F32 && w.data().isNative();
        boolean pairs = L == 16 && w.dtype() == DType.BF16 && w.data().isNative();
        MemorySegment block = direct ? null : BLOCK.get();
        int kFull = F.loopBound(kb);
        for (int panel = 0; panel < np; panel++) {
            int base = panel * kb * NR;
            for (int half = 0; half < NR; half += L) {
                int r0 = j0 + panel * NR + half;
                int p0 = 0;
                if (r0 + L <= j1) {
                    for (; pairs && p0 + 2 * L <= kb; p0 += 2 * L) {
                        long src = (long) r0 * w.cols() + k0 + p0;
                        int d = base + p0 * NR + half;
                        transposeBlock(w.data(), src * 2, w.cols() * 2L, dst, d + NR, 2 * NR);
                        widenPairs(dst, d);
                    }
                    for (; p0 < kFull; p0 += L) {
                        long src = (long) r0 * w.cols() + k0 + p0;
                        int d = base + p0 * NR + half;
                        if (direct) {
                            transposeBlock(w.data(), src * Float.BYTES, w.cols() * Float.BYTES, dst, d, NR);
                        } else {
                            loadBlock(w, src, block);
                            if (L == 16) {
                                transposeBlock(block, 0, L * Float.BYTES, dst, d, NR);
                            } else {
                                transposeAnyWidth(block, dst, d);
                            }
                        }
                    }
                }
                for (int c = 0; c < L; c++) {
                    int j = r0 + c;
                    for (int p = p0, d = base + p0 * NR + half + c; p < kb; p++, d += NR) {
                        dst[d] = j < j1 ? Numerics.load(w.data(), w.dtype(), (long) j * w.cols() + k0 + p) : 0f;
                    }
                }
            }
        }
    }

    /**
     * {@code block[r·L + l] = w[src + r·k + l]} widened, for an {@code L × L} block; an F32 W on the heap is read
     * through its array ({@link WeightVectors#heapFloats}).
     */
    private static void loadBlock(WeightMatrix w, long src, MemorySegment block) {
        MemorySegment seg = w.data();
        long k = w.cols();
        switch (w.dtype()) {
            case F32 -> {
                float[] heap = WeightVectors.heapFloats(seg);
                if (heap != null) {
                    int at = Math.toIntExact(WeightVectors.heapIndex(seg) + src);
                    for (int r = 0; r < L; r++) {
                        FloatVector.fromArray(F, heap, at + r * (int) k).intoMemorySegment(block, r * L * Float.BYTES,
                                LE);
                    }
                } else {
                    for (int r = 0; r < L; r++) {
                        WeightVectors.f32(seg, src + r * k).intoMemorySegment(block, r * L * Float.BYTES, LE);
                    }
                }
            }
            case BF16 -> {
                for (int r = 0; r < L; r++) {
                    WeightVectors.bf16(seg, src + r * k).intoMemorySegment(block, r * L * Float.BYTES, LE);
                }
            }
            case F16 -> {
                for (int r = 0; r < L; r++) {
                    WeightVectors.f16(seg, src + r * k).intoMemorySegment(block, r * L * Float.BYTES, LE);
                }
            }
            default -> throw new IllegalArgumentException("not a float weight type: " + w.dtype());
        }
    }

    /**
     * Writes the {@code L × L} float block at byte offset {@code off} of native {@code seg}, rows {@code stride}
     * bytes apart, transposed to {@code dst[d + l·dstStride + r]}, in registers (a permutation moves a lane's bits as
     * they are, so the lanes may hold other data than floats: {@link #widenPairs}). One bit
     * of (row, lane) is swapped per stage: rows {@code i} and {@code i|s} exchange their lanes with bit
     * {@code s} set / clear, each new row one two-vector {@code selectFrom} of the two. Deliberately unrolled
     * (16 rows, 4 stages: {@code L == 16}, AVX-512) so that every row stays in a local the compiler keeps in a
     * register; each line is one butterfly, the pair of new rows made from rows {@code i} and {@code i|s}.
     */
    static void transposeBlock(MemorySegment seg, long off, long stride, float[] dst, int d, int dstStride) {
        FloatVector r0 = FloatVector.fromMemorySegment(F, seg, off, LE);
        FloatVector r1 = FloatVector.fromMemorySegment(F, seg, off + 1 * stride, LE);
        FloatVector r2 = FloatVector.fromMemorySegment(F, seg, off + 2 * stride, LE);
        FloatVector r3 = FloatVector.fromMemorySegment(F, seg, off + 3 * stride, LE);
        FloatVector r4 = FloatVector.fromMemorySegment(F, seg, off + 4 * stride, LE);
        FloatVector r5 = FloatVector.fromMemorySegment(F, seg, off + 5 * stride, LE);
        FloatVector r6 = FloatVector.fromMemorySegment(F, seg, off + 6 * stride, LE);
        FloatVector r7 = FloatVector.fromMemorySegment(F, seg, off + 7 * stride, LE);
        FloatVector r8 = FloatVector.fromMemorySegment(F, seg, off + 8 * stride, LE);
        FloatVector r9 = FloatVector.fromMemorySegment(F, seg, off + 9 * stride, LE);
        FloatVector r10 = FloatVector.fromMemorySegment(F, seg, off + 10 * stride, LE);
        FloatVector r11 = FloatVector.fromMemorySegment(F, seg, off + 11 * stride, LE);
        FloatVector r12 = FloatVector.fromMemorySegment(F, seg, off + 12 * stride, LE);
        FloatVector r13 = FloatVector.fromMemorySegment(F, seg, off + 13 * stride, LE);
        FloatVector r14 = FloatVector.fromMemorySegment(F, seg, off + 14 * stride, LE);
        FloatVector r15 = FloatVector.fromMemorySegment(F, seg, off + 15 * stride, LE);
        FloatVector a0 = S8_LO.selectFrom(r0, r8), a8 = S8_HI.selectFrom(r0, r8);
        FloatVector a1 = S8_LO.selectFrom(r1, r9), a9 = S8_HI.selectFrom(r1, r9);
        FloatVector a2 = S8_LO.selectFrom(r2, r10), a10 = S8_HI.selectFrom(r2, r10);
        FloatVector a3 = S8_LO.selectFrom(r3, r11), a11 = S8_HI.selectFrom(r3, r11);
        FloatVector a4 = S8_LO.selectFrom(r4, r12), a12 = S8_HI.selectFrom(r4, r12);
        FloatVector a5 = S8_LO.selectFrom(r5, r13), a13 = S8_HI.selectFrom(r5, r13);
        FloatVector a6 = S8_LO.selectFrom(r6, r14), a14 = S8_HI.selectFrom(r6, r14);
        FloatVector a7 = S8_LO.selectFrom(r7, r15), a15 = S8_HI.selectFrom(r7, r15);
        FloatVector b0 = S4_LO.selectFrom(a0, a4), b4 = S4_HI.selectFrom(a0, a4);
        FloatVector b1 = S4_LO.selectFrom(a1, a5), b5 = S4_HI.selectFrom(a1, a5);
        FloatVector b2 = S4_LO.selectFrom(a2, a6), b6 = S4_HI.selectFrom(a2, a6);
        FloatVector b3 = S4_LO.selectFrom(a3, a7), b7 = S4_HI.selectFrom(a3, a7);
        FloatVector b8 = S4_LO.selectFrom(a8, a12), b12 = S4_HI.selectFrom(a8, a12);
        FloatVector b9 = S4_LO.selectFrom(a9, a13), b13 = S4_HI.selectFrom(a9, a13);
        FloatVector b10 = S4_LO.selectFrom(a10, a14), b14 = S4_HI.selectFrom(a10, a14);
        FloatVector b11 = S4_LO.selectFrom(a11, a15), b15 = S4_HI.selectFrom(a11, a15);
        FloatVector c0 = S2_LO.selectFrom(b0, b2), c2 = S2_HI.selectFrom(b0, b2);
        FloatVector c1 = S2_LO.selectFrom(b1, b3), c3 = S2_HI.selectFrom(b1, b3);
        FloatVector c4 = S2_LO.selectFrom(b4, b6), c6 = S2_HI.selectFrom(b4, b6);
        FloatVector c5 = S2_LO.selectFrom(b5, b7), c7 = S2_HI.selectFrom(b5, b7);
        FloatVector c8 = S2_LO.selectFrom(b8, b10), c10 = S2_HI.selectFrom(b8, b10);
        FloatVector c9 = S2_LO.selectFrom(b9, b11), c11 = S2_HI.selectFrom(b9, b11);
        FloatVector c12 = S2_LO.selectFrom(b12, b14), c14 = S2_HI.selectFrom(b12, b14);
        FloatVector c13 = S2_LO.selectFrom(b13, b15), c15 = S2_HI.selectFrom(b13, b15);
        FloatVector e0 = S1_LO.selectFrom(c0, c1), e1 = S1_HI.selectFrom(c0, c1);
        FloatVector e2 = S1_LO.selectFrom(c2, c3), e3 = S1_HI.selectFrom(c2, c3);
        FloatVector e4 = S1_LO.selectFrom(c4, c5), e5 = S1_HI.selectFrom(c4, c5);
        FloatVector e6 = S1_LO.selectFrom(c6, c7), e7 = S1_HI.selectFrom(c6, c7);
        FloatVector e8 = S1_LO.selectFrom(c8, c9), e9 = S1_HI.selectFrom(c8, c9);
        FloatVector e10 = S1_LO.selectFrom(c10, c11), e11 = S1_HI.selectFrom(c10, c11);
        FloatVector e12 = S1_LO.selectFrom(c12, c13), e13 = S1_HI.selectFrom(c12, c13);
        FloatVector e14 = S1_LO.selectFrom(c14, c15), e15 = S1_HI.selectFrom(c14, c15);
        e0.intoArray(dst, d);
        e1.intoArray(dst, d + 1 * dstStride);
        e2.intoArray(dst, d + 2 * dstStride);
        e3.intoArray(dst, d + 3 * dstStride);
        e4.intoArray(dst, d + 4 * dstStride);
        e5.intoArray(dst, d + 5 * dstStride);
        e6.intoArray(dst, d + 6 * dstStride);
        e7.intoArray(dst, d + 7 * dstStride);
        e8.intoArray(dst, d + 8 * dstStride);
        e9.intoArray(dst, d + 9 * dstStride);
        e10.intoArray(dst, d + 10 * dstStride);
        e11.intoArray(dst, d + 11 * dstStride);
        e12.intoArray(dst, d + 12 * dstStride);
        e13.intoArray(dst, d + 13 * dstStride);
        e14.intoArray(dst, d + 14 * dstStride);
        e15.intoArray(dst, d + 15 * dstStride);
    }

    /**
     * Widens {@code L} transposed pairs of BF16 elements ({@link WeightVectors#bf16Pairs}'s lanes) in place: row
     * {@code dst[d + (2l + 1)·NR …]} of pairs {@code l} becomes the even elements at {@code dst[d + 2l·NR …]} and the
     * odd ones in its own place.
     */
    private static void widenPairs(float[] dst, int d) {
        for (int l = 0; l < L; l++) {
            IntVector pairs = FloatVector.fromArray(F, dst, d + (2 * l + 1) * NR).reinterpretAsInts();
            WeightVectors.bf16Even(pairs).intoArray(dst, d + 2 * l * NR);
            WeightVectors.bf16Odd(pairs).intoArray(dst, d + (2 * l + 1) * NR);
        }
    }

    /**
     * {@link #transposeBlock} for any vector width, one stage at a time through the block itself (slower; for
     * machines whose preferred vectors are not 16 floats wide).
     */
    static void transposeAnyWidth(MemorySegment block, float[] dst, int d) {
        long row = (long) L * Float.BYTES;
        for (int stage = 0, s = L / 2; s >= 1; stage++, s /= 2) {
            FloatVector lo = FloatVector.fromArray(F, SWAP_INDEX, 2 * stage * L);
            FloatVector hi = FloatVector.fromArray(F, SWAP_INDEX, (2 * stage + 1) * L);
            for (int i = 0; i < L; i++) {
                if ((i & s) == 0) {
                    FloatVector a = FloatVector.fromMemorySegment(F, block, i * row, LE);
                    FloatVector b = FloatVector.fromMemorySegment(F, block, (i | s) * row, LE);
                    lo.selectFrom(a, b).intoMemorySegment(block, i * row, LE);
                    hi.selectFrom(a, b).intoMemorySegment(block, (i | s) * row, LE);
                }
            }
        }
        for (int i = 0; i < L; i++) {
            FloatVector.fromMemorySegment(F, block, i * row, LE).intoArray(dst, d + i * NR);
        }
    }

    /** Index vector {@code v} of {@link #SWAP_INDEX}; zero (and unused) past its end, for vectors narrower than 16. */
    static FloatVector swapVector(int v) {
        return (v + 1) * L <= SWAP_INDEX.length ? FloatVector.fromArray(F, SWAP_INDEX, v * L) : FloatVector.zero(F);
    }

    /**
     * Per transpose stage ({@code s = L/2, L/4, …, 1}) two index vectors for {@code selectFrom(a, b)}
     * (lanes {@code L..2L-1} name b): the new row {@code i} keeps a's lanes with bit s clear and takes b's
     * lanes {@code l ^ s} for the others; the new row {@code i|s} the complement.
     */
    private static float[] swapIndex() {
        int stages = Integer.numberOfTrailingZeros(L);
        float[] idx = new float[2 * stages * L];
        for (int stage = 0, s = L / 2; s >= 1; stage++, s /= 2) {
            for (int l = 0; l < L; l++) {
                boolean set = (l & s) != 0;
                idx[2 * stage * L + l] = set ? L + (l ^ s) : l;
                idx[(2 * stage + 1) * L + l] = set ? L + l : l ^ s;
            }
        }
        return idx;
    }

    /**
     * Y tile {@code [MR, cols]} (+)= X rows {@code [MR, kb]} · packed panel {@code [kb, NR]}, {@code cols ≤ NR}. The
     * micro-kernels only ever store whole vectors, and only store: a ragged tile, or one added to Y, is computed into
     * a padded per-thread scratch tile whose first {@code cols} columns are then copied or added. (A ragged store
     * inside the micro-kernel, through {@code lane(c)}, once taken, left the compiled kernel with boxed vectors,
     * slowing every later product two- to tenfold; adding Y inside the 14-row kernel made its C2 compilation take
     * ~50 MB, a spike in the process's peak memory, against ~25 MB without.) Every kernel here sums each output over
     * k in order, from zero, and adds Y last, so a row's values do not depend on the tile it falls in.
     */
    static void kernel(float[] x, int xo, int k, float[] b, int bo, int kb,
                       float[] y, int yo, int n, int cols, boolean first) {
        if (cols == NR && first) {
            microMR(x, xo, k, b, bo, kb, y, yo, n);
        } else {
            float[] t = TILE.get();
            microMR(x, xo, k, b, bo, kb, t, 0, NR);
            storeRows(t, MR, y, yo, n, cols, first);
        }
    }

    private static void microMR(float[] x, int xo, int k, float[] b, int bo, int kb, float[] y, int yo, int n) {
        if (MR == 14) {
            micro14(x, xo, k, b, bo, kb, y, yo, n);
        } else {
            MatMulNN.tile4x2(x, xo, k, kb, b, bo, NR, y, yo, n, false);
        }
    }

    /**
     * Y tile {@code [rows, cols]} (+)= X rows {@code [rows, kb]} · packed panel {@code [kb, NR]} for a tile shorter
     * than {@link #MR} ({@code rows < MR}): as 6-, 4-, 2- and 1-row micro-kernels, so that a sequence length like 256
     * ({@code 18·14 + 4}) does not leave its last rows to the one-row kernel, which loads B once per FMA pair.
     * Ragged columns and adding to Y as in {@link #kernel}.
     */
    static void kernelTail(int rows, float[] x, int xo, int k, float[] b, int bo, int kb,
                           float[] y, int yo, int n, int cols, boolean first) {
        if (cols == NR && first) {
            tailRows(rows, x, xo, k, b, bo, kb, y, yo, n);
        } else {
            float[] t = TILE.get();
            tailRows(rows, x, xo, k, b, bo, kb, t, 0, NR);
            storeRows(t, rows, y, yo, n, cols, first);
        }
    }

    private static void tailRows(int rows, float[] x, int xo, int k, float[] b, int bo, int kb,
                                 float[] y, int yo, int n) {
        int i = 0;
        for (; rows - i >= 6; i += 6) {
            micro6(x, xo + i * k, k, b, bo, kb, y, yo + i * n, n);
        }
        if (rows - i >= 4) {
            MatMulNN.tile4x2(x, xo + i * k, k, kb, b, bo, NR, y, yo + i * n, n, false);
            i += 4;
        }
        if (rows - i >= 2) {
            micro2(x, xo + i * k, k, b, bo, kb, y, yo + i * n, n);
            i += 2;
        }
        if (rows - i >= 1) {
            MatMulNN.tile1x2(x, xo + i * k, kb, b, bo, NR, y, yo + i * n, false);
        }
    }

    /**
     * {@code y[yo + r·n + c] = t[r·NR + c]} ({@code +=} when not {@code first}) for {@code r < rows, c < cols}; whole
     * rows by vectors (the sum {@code y + t} has the bits of {@code t + y}).
     */
    private static void storeRows(float[] t, int rows, float[] y, int yo, int n, int cols, boolean first) {
        for (int r = 0; r < rows; r++) {
            int d = yo + r * n;
            int c = 0;
            if (!first) {
                for (; c <= cols - L; c += L) {
                    FloatVector.fromArray(F, y, d + c).add(FloatVector.fromArray(F, t, r * NR + c)).intoArray(y, d + c);
                }
            }
            for (; c < cols; c++) {
                y[d + c] = first ? t[r * NR + c] : y[d + c] + t[r * NR + c];
            }
        }
    }

    /**
     * Y tile {@code [14, NR]} = X rows {@code [14, kb]} · packed panel {@code [kb, NR]}: 28 accumulators, two W
     * vectors and a broadcast fill AVX-512's 32 registers, and each W vector loaded from the panel (which streams from
     * L2) serves 14 FMAs instead of 6: on one core ~0.8 of the FMA peak against 6 rows' ~0.7.
     */
    private static void micro14(float[] x, int xo, int k, float[] b, int bo, int kb,
                                float[] y, int yo, int n) {
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        FloatVector c60 = c00;
        FloatVector c61 = c00;
        FloatVector c70 = c00;
        FloatVector c71 = c00;
        FloatVector c80 = c00;
        FloatVector c81 = c00;
        FloatVector c90 = c00;
        FloatVector c91 = c00;
        FloatVector ca0 = c00;
        FloatVector ca1 = c00;
        FloatVector cb0 = c00;
        FloatVector cb1 = c00;
        FloatVector cc0 = c00;
        FloatVector cc1 = c00;
        FloatVector cd0 = c00;
        FloatVector cd1 = c00;
        int x0 = xo;
        int x1 = x0 + k;
        int x2 = x1 + k;
        int x3 = x2 + k;
        int x4 = x3 + k;
        int x5 = x4 + k;
        int x6 = x5 + k;
        int x7 = x6 + k;
        int x8 = x7 + k;
        int x9 = x8 + k;
        int xa = x9 + k;
        int xb = xa + k;
        int xc = xb + k;
        int xd = xc + k;
        for (int p = 0; p < kb; p++) {
            int bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, bp);
            FloatVector b1 = FloatVector.fromArray(F, b, bp + L);
            FloatVector a = FloatVector.broadcast(F, x[x0 + p]);
            c00 = b0.fma(a, c00);
            c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(F, x[x1 + p]);
            c10 = b0.fma(a, c10);
            c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(F, x[x2 + p]);
            c20 = b0.fma(a, c20);
            c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(F, x[x3 + p]);
            c30 = b0.fma(a, c30);
            c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(F, x[x4 + p]);
            c40 = b0.fma(a, c40);
            c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(F, x[x5 + p]);
            c50 = b0.fma(a, c50);
            c51 = b1.fma(a, c51);
            a = FloatVector.broadcast(F, x[x6 + p]);
            c60 = b0.fma(a, c60);
            c61 = b1.fma(a, c61);
            a = FloatVector.broadcast(F, x[x7 + p]);
            c70 = b0.fma(a, c70);
            c71 = b1.fma(a, c71);
            a = FloatVector.broadcast(F, x[x8 + p]);
            c80 = b0.fma(a, c80);
            c81 = b1.fma(a, c81);
            a = FloatVector.broadcast(F, x[x9 + p]);
            c90 = b0.fma(a, c90);
            c91 = b1.fma(a, c91);
            a = FloatVector.broadcast(F, x[xa + p]);
            ca0 = b0.fma(a, ca0);
            ca1 = b1.fma(a, ca1);
            a = FloatVector.broadcast(F, x[xb + p]);
            cb0 = b0.fma(a, cb0);
            cb1 = b1.fma(a, cb1);
            a = FloatVector.broadcast(F, x[xc + p]);
            cc0 = b0.fma(a, cc0);
            cc1 = b1.fma(a, cc1);
            a = FloatVector.broadcast(F, x[xd + p]);
            cd0 = b0.fma(a, cd0);
            cd1 = b1.fma(a, cd1);
        }
        c00.intoArray(y, yo);
        c01.intoArray(y, yo + L);
        c10.intoArray(y, yo + n);
        c11.intoArray(y, yo + n + L);
        c20.intoArray(y, yo + 2 * n);
        c21.intoArray(y, yo + 2 * n + L);
        c30.intoArray(y, yo + 3 * n);
        c31.intoArray(y, yo + 3 * n + L);
        c40.intoArray(y, yo + 4 * n);
        c41.intoArray(y, yo + 4 * n + L);
        c50.intoArray(y, yo + 5 * n);
        c51.intoArray(y, yo + 5 * n + L);
        c60.intoArray(y, yo + 6 * n);
        c61.intoArray(y, yo + 6 * n + L);
        c70.intoArray(y, yo + 7 * n);
        c71.intoArray(y, yo + 7 * n + L);
        c80.intoArray(y, yo + 8 * n);
        c81.intoArray(y, yo + 8 * n + L);
        c90.intoArray(y, yo + 9 * n);
        c91.intoArray(y, yo + 9 * n + L);
        ca0.intoArray(y, yo + 10 * n);
        ca1.intoArray(y, yo + 10 * n + L);
        cb0.intoArray(y, yo + 11 * n);
        cb1.intoArray(y, yo + 11 * n + L);
        cc0.intoArray(y, yo + 12 * n);
        cc1.intoArray(y, yo + 12 * n + L);
        cd0.intoArray(y, yo + 13 * n);
        cd1.intoArray(y, yo + 13 * n + L);
    }

    /** Y tile {@code [6, NR]} = X rows {@code [6, kb]} · packed panel {@code [kb, NR]}. */
    private static void micro6(float[] x, int xo, int k, float[] b, int bo, int kb,
                               float[] y, int yo, int n) {
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        int x0 = xo;
        int x1 = x0 + k;
        int x2 = x1 + k;
        int x3 = x2 + k;
        int x4 = x3 + k;
        int x5 = x4 + k;
        for (int p = 0; p < kb; p++) {
            int bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, bp);
            FloatVector b1 = FloatVector.fromArray(F, b, bp + L);
            FloatVector a = FloatVector.broadcast(F, x[x0 + p]);
            c00 = b0.fma(a, c00);
            c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(F, x[x1 + p]);
            c10 = b0.fma(a, c10);
            c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(F, x[x2 + p]);
            c20 = b0.fma(a, c20);
            c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(F, x[x3 + p]);
            c30 = b0.fma(a, c30);
            c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(F, x[x4 + p]);
            c40 = b0.fma(a, c40);
            c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(F, x[x5 + p]);
            c50 = b0.fma(a, c50);
            c51 = b1.fma(a, c51);
        }
        c00.intoArray(y, yo);
        c01.intoArray(y, yo + L);
        c10.intoArray(y, yo + n);
        c11.intoArray(y, yo + n + L);
        c20.intoArray(y, yo + 2 * n);
        c21.intoArray(y, yo + 2 * n + L);
        c30.intoArray(y, yo + 3 * n);
        c31.intoArray(y, yo + 3 * n + L);
        c40.intoArray(y, yo + 4 * n);
        c41.intoArray(y, yo + 4 * n + L);
        c50.intoArray(y, yo + 5 * n);
        c51.intoArray(y, yo + 5 * n + L);
    }

    /** Y tile {@code [2, NR]} = X rows {@code [2, kb]} · packed panel {@code [kb, NR]}. */
    private static void micro2(float[] x, int xo, int k, float[] b, int bo, int kb,
                               float[] y, int yo, int n) {
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        int x1 = xo + k;
        for (int p = 0; p < kb; p++) {
            int bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, bp);
            FloatVector b1 = FloatVector.fromArray(F, b, bp + L);
            FloatVector a = FloatVector.broadcast(F, x[xo + p]);
            c00 = b0.fma(a, c00);
            c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(F, x[x1 + p]);
            c10 = b0.fma(a, c10);
            c11 = b1.fma(a, c11);
        }
        c00.intoArray(y, yo);
        c01.intoArray(y, yo + L);
        c10.intoArray(y, yo + n);
        c11.intoArray(y, yo + n + L);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
