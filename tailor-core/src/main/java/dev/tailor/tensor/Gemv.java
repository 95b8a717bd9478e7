package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * {@code Y = X·Wᵀ} for a few rows of X (decode): every output is a dot product of an X row with a W row.
 *
 * <p>Every output is computed in one order, whatever the row count: one vector accumulator takes the products of
 * the whole vectors of the row by fused multiply-adds ({@code a = w[c, c + L)·x[c, c + L) + a} for c = 0, L, 2L …),
 * its lanes are summed by the fixed tree of {@link VectorMath#sum}, and the last {@code k mod L} columns are added
 * one product at a time (BF16 takes its columns in blocks of 2L instead, lane l column c + 2l then c + 2l + 1
 * ({@link WeightVectors#bf16Pairs}), the last {@code k mod 2L} one at a time, X reordered to match once per product
 * by {@link WeightVectors#pairSplit}). An output then has the bits it has when its row is multiplied alone, so the
 * products are batch invariant ({@link MatMul#batchInvariant}); {@link ScalarKernels#matmulTransposedStreamingOrder}
 * is the order's scalar twin.
 *
 * <p>With one accumulator per output, independent work comes from several outputs side by side: one row of X goes
 * against eight W rows at a time for F32 (four for BF16, two for F16, whose widening is longer), each X vector
 * loaded once for them; they are an eighth (a quarter, a half) of the task's rows apart ({@link RowSweeps}), so that
 * each is a sequential sweep through W. The four interleaved streams of W measured no slower than one row at a time
 * (with four accumulators along k), also for a W far larger than the caches; eight made F32 decoding 3–15% faster on
 * an AMD Zen 5, more of W in flight from memory (BF16's eight widenings in one loop were not inlined: 5× slower).
 * Several rows of X go through {@link GemvTiles}' register tiles, which also load each W vector once for several rows
 * (and so read W from the caches once per tile of rows instead of once per row); with more than one tile, every tile
 * passes over 128 KB of W rows before any goes on ({@link #PASS_BYTES}). W is streamed straight from its segment and
 * widened in-register. Tasks are chunks of W rows small enough to stay in L2 while every X row passes over them.
 * Block-quantized weights go to {@link QuantGemv}, and F32 weights on the heap to {@link HeapGemv}, in the same
 * order; F32 and BF16 weights mapped from a file go to {@link PanelGemv}, in an order of its own (one chain of fused
 * multiply-adds per output) that is batch invariant too; Q4_0 weights (and Q8_0 ones mapped from a file) go to
 * {@link IntegerGemv}, which multiplies them in integers by 8-bit activations, in an order of its own that is batch
 * invariant too.
 */
final class Gemv {
    /** Target bytes of W per task, so a chunk is reused from L2 across X rows. */
    private static final int CHUNK_BYTES = 256 * 1024;
    /**
     * Bytes of W every tile of X rows passes over before the next: read from memory by the first tile and from the
     * caches by the others, so that streaming W from memory is spread over the arithmetic instead of making the first
     * tile's pass over a whole task's chunk wait on it. Measured at 16 rows on an AMD Zen 4 (two threads, W from
     * memory): the 49152×576 lm_head 81 → 109 GFLOP/s with 64 KB passes; 16 KB passes (four F32 rows of 576, side by
     * side) gained little at 16 rows and lost at 8. Once the tiles' lane sums took constant shuffles
     * ({@link VectorMath#ROTATE_8}), the arithmetic after the first tile got shorter than the wait for W, and 128 KB
     * passes made 8-, 12- and 16-row decode steps 4–14% faster than 64 KB ones on an AMD Zen 5 (256 KB: no faster).
     */
    private static final int PASS_BYTES = 128 * 1024;

    private Gemv() {
    }

    /** {@code y[yOff + i·n + j] = Σ_c x[xOff + i·k + c] · w[j, c]} for {@code i < m}. */
    static void run(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff) {
        runEach(x, xOff, m, new WeightMatrix[] {w}, new float[][] {y}, new int[] {yOff});
    }

    /**
     * {@link #run} for each of several weights of the same columns against the same rows of X, as one parallel loop
     * over all their tasks: one wait for the threads instead of one per product, and the tasks of a small matrix
     * share the threads with the others'. Each output has the bits {@link #run} gives it.
     */
    static void runEach(float[] x, int xOff, int m, WeightMatrix[] ws, float[][] ys, int[] yOffs) {
        Tasks[] plans = new Tasks[ws.length];
        int[] first = new int[ws.length + 1];
        ActivationBlocks bytes = null;
        for (int i = 0; i < ws.length; i++) {
            WeightMatrix w = ws[i];
            if (IntegerGemv.handles(w)) {
                if (bytes == null) {
                    bytes = ActivationBlocks.reused(x, xOff, m, w.cols());
                }
                plans[i] = IntegerGemv.tasks(bytes, m, w, ys[i], yOffs[i]);
            } else if (PanelGemv.handles(w)) {
                plans[i] = PanelGemv.tasks(x, xOff, m, w, ys[i], yOffs[i]);
            } else {
                plans[i] = tasks(x, xOff, m, w, ys[i], yOffs[i]);
            }
            first[i + 1] = first[i] + plans[i].count();
        }
        Parallel.parallelFor(first[ws.length], t -> {
            int i = 0;
            while (t >= first[i + 1]) {
                i++;
            }
            plans[i].task().accept(t - first[i]);
        });
    }

    /** One product's tasks in a parallel loop: {@code count} of them, run by index. */
    record Tasks(int count, IntConsumer task) {
    }

    /** The product's tasks: chunks of W rows ({@link #unitsPerTask}). */
    private static Tasks tasks(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff) {
        int n = w.rows();
        // a multiple of 8, the W rows of the one-row F32 kernel (two tiles' 4), so that only the last chunk repeats
        // a row to fill its sweeps (a multiple of 4 left 36-row chunks computing 40 rows)
        int chunk = (unitsPerTask(m, n, w.rowBytes()) + 7) & ~7;
        boolean split = w.dtype() == DType.BF16;
        float[] xs = split ? WeightVectors.pairSplit(x, xOff, m, w.cols()) : x;
        int xo = split ? 0 : xOff;
        return new Tasks(PackedGemm.ceilDiv(n, chunk),
                t -> kernelRows(xs, xo, m, w, y, yOff, t * chunk, Math.min(n, (t + 1) * chunk)));
    }

    /**
     * How many of W's {@code units} (rows, or row groups), {@code unitBytes} each, one task of a product over
     * {@code m} rows of X takes. Several X rows take chunks small enough to stay in L2 while every row passes over
     * them, eight or more per thread. One row reuses nothing: it takes one chunk per thread, so that the kernel's
     * streams sweep W start to end; with eight per thread, each a fresh set of short streams for the prefetchers,
     * decoding ran 25-45% slower over Q4_0, Q8_0 and F16 weights (AMD EPYC Zen 5, reference shape; F32 gained 5%).
     * The F32 and BF16 panels ({@link PanelGemv}), bound by memory, did not gain and keep their own chunks.
     */
    static int unitsPerTask(int m, int units, long unitBytes) {
        int threads = Parallel.threads();
        if (m == 1) {
            return PackedGemm.ceilDiv(units, threads);
        }
        int byCache = (int) Math.max(1, CHUNK_BYTES / Math.max(1, unitBytes));
        return Math.min(byCache, PackedGemm.ceilDiv(units, 8 * threads));
    }

    /** Rows {@code [j0, j1)} of W against every row of X. */
    static void rows(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff, int j0, int j1) {
        if (w.dtype() == DType.BF16) {
            kernelRows(WeightVectors.pairSplit(x, xOff, m, w.cols()), 0, m, w, y, yOff, j0, j1);
        } else {
            kernelRows(x, xOff, m, w, y, yOff, j0, j1);
        }
    }

    /** {@link #rows(float[], int, int, WeightMatrix, float[], int, int, int)} with X in the kernels' order. */
    private static void kernelRows(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff, int j0, int j1) {
        if (w.dtype().isQuantized()) {
            QuantGemv.rows(x, xOff, m, w, y, yOff, j0, j1);
        } else {
            rows(x, xOff, m, w, w.rows(), y, yOff, j0, j1);
        }
    }

    /**
     * Rows {@code [j0, j1)} of float W against every row of X, into Y of row stride {@code n}:
     * {@code y[yOff + i·n + j] = Σ_c x[xOff + i·k + c] · w[j, c]}, X in the kernels' order for W's type (for BF16,
     * {@link WeightVectors#pairSplit}).
     */
    static void rows(float[] x, int xOff, int m, WeightMatrix w, int n, float[] y, int yOff, int j0, int j1) {
        int k = w.cols();
        MemorySegment seg = w.data();
        DType dtype = w.dtype();
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("not a float weight type: " + dtype);
        }
        float[] heap = dtype == DType.F32 ? WeightVectors.heapFloats(seg) : null;
        if (heap != null) {
            HeapGemv.rows(x, xOff, m, heap, WeightVectors.heapIndex(seg), k, n, y, yOff, j0, j1);
            return;
        }
        if (m <= 4) {
            tiles(x, xOff, m, seg, dtype, k, n, y, yOff, j0, j1);
            return;
        }
        // more than one tile of X rows: every tile over a few W rows while they are in the caches, then the next few
        int step = Math.max(4, (int) (PASS_BYTES / w.rowBytes()) & ~3);
        for (int s0 = j0; s0 < j1; s0 += step) {
            tiles(x, xOff, m, seg, dtype, k, n, y, yOff, s0, Math.min(j1, s0 + step));
        }
    }

    /** The register tiles of {@code rows} over W rows {@code [j0, j1)}: X rows by four, then two, then one. */
    private static void tiles(float[] x, int xOff, int m, MemorySegment seg, DType dtype, int k, int n, float[] y,
                              int yOff, int j0, int j1) {
        // rows of X by four (three take the last one again, computed and stored twice), then two, then one
        int i = 0;
        for (; m - i >= 3; i += 4) {
            int x0 = xOff + i * k;
            int y0 = yOff + i * n;
            int x3 = xOff + Math.min(i + 3, m - 1) * k;
            int y3 = yOff + Math.min(i + 3, m - 1) * n;
            switch (dtype) {
                case F32 -> GemvTiles.tile4x4F32(x, x0, x0 + k, x0 + 2 * k, x3, seg, k, j0, j1, y, y0, y0 + n,
                        y0 + 2 * n, y3);
                case BF16 -> GemvTiles.tile4x4Bf16(x, x0, x0 + k, x0 + 2 * k, x3, seg, k, j0, j1, y, y0, y0 + n,
                        y0 + 2 * n, y3);
                default -> GemvTiles.tile4x2F16(x, x0, x0 + k, x0 + 2 * k, x3, seg, k, j0, j1, y, y0, y0 + n,
                        y0 + 2 * n, y3);
            }
        }
        if (m - i == 2) {
            int x0 = xOff + i * k;
            int y0 = yOff + i * n;
            switch (dtype) {
                case F32 -> GemvTiles.tile2x4F32(x, x0, x0 + k, seg, k, j0, j1, y, y0, y0 + n);
                case BF16 -> GemvTiles.tile2x4Bf16(x, x0, x0 + k, seg, k, j0, j1, y, y0, y0 + n);
                default -> GemvTiles.tile2x2F16(x, x0, x0 + k, seg, k, j0, j1, y, y0, y0 + n);
            }
        } else if (m - i == 1) {
            int x0 = xOff + i * k;
            int y0 = yOff + i * n;
            switch (dtype) {
                case F32 -> rowF32(x, x0, seg, k, j0, j1, y, y0);
                case BF16 -> rowBf16(x, x0, seg, k, j0, j1, y, y0);
                default -> rowF16(x, x0, seg, k, j0, j1, y, y0);
            }
        }
    }

    /**
     * The X row at {@code xo} against W rows {@code [j0, j1)}, eight at a time an eighth of the range apart
     * ({@link RowSweeps}; the last one repeated when the range is not a multiple of eight):
     * {@code y[yo + j] = Σ_c x[xo + c] · w[j, c]}.
     */
    private static void rowF32(float[] x, int xo, MemorySegment w, int k, int j0, int j1, float[] y, int yo) {
        int vectors = k / L * L;
        int sweep = RowSweeps.eighth(j0, j1);
        int last = j1 - 1;
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, last);
            int jc = Math.min(j + 2 * sweep, last);
            int jd = Math.min(j + 3 * sweep, last);
            int je = Math.min(j + 4 * sweep, last);
            int jf = Math.min(j + 5 * sweep, last);
            int jg = Math.min(j + 6 * sweep, last);
            int jh = Math.min(j + 7 * sweep, last);
            long r0 = (long) j * k;
            long r1 = (long) jb * k;
            long r2 = (long) jc * k;
            long r3 = (long) jd * k;
            long r4 = (long) je * k;
            long r5 = (long) jf * k;
            long r6 = (long) jg * k;
            long r7 = (long) jh * k;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector a4 = a0;
            FloatVector a5 = a0;
            FloatVector a6 = a0;
            FloatVector a7 = a0;
            for (int c = 0; c < vectors; c += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c);
                a0 = WeightVectors.f32(w, r0 + c).fma(xv, a0);
                a1 = WeightVectors.f32(w, r1 + c).fma(xv, a1);
                a2 = WeightVectors.f32(w, r2 + c).fma(xv, a2);
                a3 = WeightVectors.f32(w, r3 + c).fma(xv, a3);
                a4 = WeightVectors.f32(w, r4 + c).fma(xv, a4);
                a5 = WeightVectors.f32(w, r5 + c).fma(xv, a5);
                a6 = WeightVectors.f32(w, r6 + c).fma(xv, a6);
                a7 = WeightVectors.f32(w, r7 + c).fma(xv, a7);
            }
            if (L > 8) {
                a0 = a0.add(a0.rearrange(VectorMath.ROTATE_8));
                a1 = a1.add(a1.rearrange(VectorMath.ROTATE_8));
                a2 = a2.add(a2.rearrange(VectorMath.ROTATE_8));
                a3 = a3.add(a3.rearrange(VectorMath.ROTATE_8));
                a4 = a4.add(a4.rearrange(VectorMath.ROTATE_8));
                a5 = a5.add(a5.rearrange(VectorMath.ROTATE_8));
                a6 = a6.add(a6.rearrange(VectorMath.ROTATE_8));
                a7 = a7.add(a7.rearrange(VectorMath.ROTATE_8));
            }
            if (L > 4) {
                a0 = a0.add(a0.rearrange(VectorMath.ROTATE_4));
                a1 = a1.add(a1.rearrange(VectorMath.ROTATE_4));
                a2 = a2.add(a2.rearrange(VectorMath.ROTATE_4));
                a3 = a3.add(a3.rearrange(VectorMath.ROTATE_4));
                a4 = a4.add(a4.rearrange(VectorMath.ROTATE_4));
                a5 = a5.add(a5.rearrange(VectorMath.ROTATE_4));
                a6 = a6.add(a6.rearrange(VectorMath.ROTATE_4));
                a7 = a7.add(a7.rearrange(VectorMath.ROTATE_4));
            }
            if (L > 2) {
                a0 = a0.add(a0.rearrange(VectorMath.ROTATE_2));
                a1 = a1.add(a1.rearrange(VectorMath.ROTATE_2));
                a2 = a2.add(a2.rearrange(VectorMath.ROTATE_2));
                a3 = a3.add(a3.rearrange(VectorMath.ROTATE_2));
                a4 = a4.add(a4.rearrange(VectorMath.ROTATE_2));
                a5 = a5.add(a5.rearrange(VectorMath.ROTATE_2));
                a6 = a6.add(a6.rearrange(VectorMath.ROTATE_2));
                a7 = a7.add(a7.rearrange(VectorMath.ROTATE_2));
            }
            a0 = a0.add(a0.rearrange(VectorMath.ROTATE_1));
            a1 = a1.add(a1.rearrange(VectorMath.ROTATE_1));
            a2 = a2.add(a2.rearrange(VectorMath.ROTATE_1));
            a3 = a3.add(a3.rearrange(VectorMath.ROTATE_1));
            a4 = a4.add(a4.rearrange(VectorMath.ROTATE_1));
            a5 = a5.add(a5.rearrange(VectorMath.ROTATE_1));
            a6 = a6.add(a6.rearrange(VectorMath.ROTATE_1));
            a7 = a7.add(a7.rearrange(VectorMath.ROTATE_1));
            y[yo + j] = tailF32(a0.lane(0), x, xo, w, r0, vectors, k);
            y[yo + jb] = tailF32(a1.lane(0), x, xo, w, r1, vectors, k);
            y[yo + jc] = tailF32(a2.lane(0), x, xo, w, r2, vectors, k);
            y[yo + jd] = tailF32(a3.lane(0), x, xo, w, r3, vectors, k);
            y[yo + je] = tailF32(a4.lane(0), x, xo, w, r4, vectors, k);
            y[yo + jf] = tailF32(a5.lane(0), x, xo, w, r5, vectors, k);
            y[yo + jg] = tailF32(a6.lane(0), x, xo, w, r6, vectors, k);
            y[yo + jh] = tailF32(a7.lane(0), x, xo, w, r7, vectors, k);
        }
    }

    /** {@code sum} plus the products of W row {@code row}'s columns from {@code c} on, one at a time. */
    private static float tailF32(float sum, float[] x, int xo, MemorySegment w, long row, int c, int k) {
        for (; c < k; c++) {
            sum += x[xo + c] * Numerics.load(w, DType.F32, row + c);
        }
        return sum;
    }

    /** {@link #rowF32} for BF16 weights. */
    private static void rowBf16(float[] x, int xo, MemorySegment w, int k, int j0, int j1, float[] y, int yo) {
        int pairs = k / (2 * L) * (2 * L);
        int sweep = RowSweeps.quarter(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            int jc = Math.min(j + 2 * sweep, j1 - 1);
            int jd = Math.min(j + 3 * sweep, j1 - 1);
            long ra = (long) j * k;
            long rb = (long) jb * k;
            long rc = (long) jc * k;
            long rd = (long) jd * k;
            FloatVector aa = FloatVector.zero(F);
            FloatVector ab = aa;
            FloatVector ac = aa;
            FloatVector ad = aa;
            int c = 0;
            for (; c < pairs; c += 2 * L) {
                IntVector va = WeightVectors.bf16Pairs(w, ra + c);
                IntVector vb = WeightVectors.bf16Pairs(w, rb + c);
                IntVector vc = WeightVectors.bf16Pairs(w, rc + c);
                IntVector vd = WeightVectors.bf16Pairs(w, rd + c);
                FloatVector xv = FloatVector.fromArray(F, x, xo + c);
                aa = WeightVectors.bf16Even(va).fma(xv, aa);
                ab = WeightVectors.bf16Even(vb).fma(xv, ab);
                ac = WeightVectors.bf16Even(vc).fma(xv, ac);
                ad = WeightVectors.bf16Even(vd).fma(xv, ad);
                xv = FloatVector.fromArray(F, x, xo + c + L);
                aa = WeightVectors.bf16Odd(va).fma(xv, aa);
                ab = WeightVectors.bf16Odd(vb).fma(xv, ab);
                ac = WeightVectors.bf16Odd(vc).fma(xv, ac);
                ad = WeightVectors.bf16Odd(vd).fma(xv, ad);
            }
            if (L > 8) {
                aa = aa.add(aa.rearrange(VectorMath.ROTATE_8));
                ab = ab.add(ab.rearrange(VectorMath.ROTATE_8));
                ac = ac.add(ac.rearrange(VectorMath.ROTATE_8));
                ad = ad.add(ad.rearrange(VectorMath.ROTATE_8));
            }
            if (L > 4) {
                aa = aa.add(aa.rearrange(VectorMath.ROTATE_4));
                ab = ab.add(ab.rearrange(VectorMath.ROTATE_4));
                ac = ac.add(ac.rearrange(VectorMath.ROTATE_4));
                ad = ad.add(ad.rearrange(VectorMath.ROTATE_4));
            }
            if (L > 2) {
                aa = aa.add(aa.rearrange(VectorMath.ROTATE_2));
                ab = ab.add(ab.rearrange(VectorMath.ROTATE_2));
                ac = ac.add(ac.rearrange(VectorMath.ROTATE_2));
                ad = ad.add(ad.rearrange(VectorMath.ROTATE_2));
            }
            aa = aa.add(aa.rearrange(VectorMath.ROTATE_1));
            ab = ab.add(ab.rearrange(VectorMath.ROTATE_1));
            ac = ac.add(ac.rearrange(VectorMath.ROTATE_1));
            ad = ad.add(ad.rearrange(VectorMath.ROTATE_1));
            float ta = aa.lane(0);
            float tb = ab.lane(0);
            float tc = ac.lane(0);
            float td = ad.lane(0);
            for (; c < k; c++) {
                float xc = x[xo + c];
                ta += xc * Numerics.load(w, DType.BF16, ra + c);
                tb += xc * Numerics.load(w, DType.BF16, rb + c);
                tc += xc * Numerics.load(w, DType.BF16, rc + c);
                td += xc * Numerics.load(w, DType.BF16, rd + c);
            }
            y[yo + j] = ta;
            y[yo + jb] = tb;
            y[yo + jc] = tc;
            y[yo + jd] = td;
        }
    }

    /**
     * {@link #rowF32} for F16 weights, two W rows at a time: four F16 widenings in one loop pass C2's inlining budget.
     */
    private static void rowF16(float[] x, int xo, MemorySegment w, int k, int j0, int j1, float[] y, int yo) {
        int vectors = k / L * L;
        int sweep = RowSweeps.half(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            long ra = (long) j * k;
            long rb = (long) jb * k;
            FloatVector aa = FloatVector.zero(F);
            FloatVector ab = aa;
            int c = 0;
            for (; c < vectors; c += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c);
                aa = WeightVectors.f16(w, ra + c).fma(xv, aa);
                ab = WeightVectors.f16(w, rb + c).fma(xv, ab);
            }
            if (L > 8) {
                aa = aa.add(aa.rearrange(VectorMath.ROTATE_8));
                ab = ab.add(ab.rearrange(VectorMath.ROTATE_8));
            }
            if (L > 4) {
                aa = aa.add(aa.rearrange(VectorMath.ROTATE_4));
                ab = ab.add(ab.rearrange(VectorMath.ROTATE_4));
            }
            if (L > 2) {
                aa = aa.add(aa.rearrange(VectorMath.ROTATE_2));
                ab = ab.add(ab.rearrange(VectorMath.ROTATE_2));
            }
            aa = aa.add(aa.rearrange(VectorMath.ROTATE_1));
            ab = ab.add(ab.rearrange(VectorMath.ROTATE_1));
            float ta = aa.lane(0);
            float tb = ab.lane(0);
            for (; c < k; c++) {
                float xc = x[xo + c];
                ta += xc * Numerics.load(w, DType.F16, ra + c);
                tb += xc * Numerics.load(w, DType.F16, rb + c);
            }
            y[yo + j] = ta;
            y[yo + jb] = tb;
        }
    }
}
