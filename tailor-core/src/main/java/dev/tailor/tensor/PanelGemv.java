package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.I;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code Y = X·Wᵀ} for a few rows of X against an F32 or BF16 W mapped from a file, from its regrouped copy
 * ({@link WeightPanels}): one vector load holds one column of L rows of W (BF16: two columns, widened by one operation
 * each), and every output is a chain of fused multiply-adds over the columns in order,
 * {@code a = fma(x[c], w[j, c], a)} for c = 0, 1, … k − 1 from {@code a = 0}, nothing summed across lanes. The order
 * is the same whatever the row count, so the products are batch invariant ({@link MatMul#batchInvariant});
 * {@link ScalarKernels#matmulTransposedPanelOrder} is its scalar twin.
 *
 * <p>An X element is broadcast to a vector and multiplied into L outputs at once (an outer product per column), so a
 * tile of X rows by panels of W needs no lane sums: eight rows by two panels, sixteen accumulators, per column two W
 * loads, eight broadcasts and sixteen FMAs; fewer rows take four by four, two by four and one by four (one by eight
 * for BF16: W in four or eight streams for decoding). Measured against {@link Gemv}'s dot-product tiles on an AMD
 * Zen 5, two threads over the reference shape's F32 weights (8 blocks and a 49152-row lm_head, 226 MB, from memory),
 * the two taking turns in one process: one row 44 → 53 GB/s (59 → 77 in the machine's faster state), 4 rows 91 → 101
 * GFLOP/s, 8 rows 155 → 195, 16 rows 217 → 268; 16 rows over a W in L2, 300 → 485 (the eight-by-two tile, 90% of the
 * FMA peak). BF16, one row: 38 → 45 GB/s with four panels at a time, 54 → 60 from four to eight.
 *
 * <p>Tasks are chunks of panels small enough to stay in L2. Past eight rows, {@link #STREAM_ROWS} rows go first over
 * {@link #PASS_BYTES} of panels (at least four), and the other rows' tiles then pass over the same panels, so that W is
 * read from memory by a tile light enough to keep W's stream at full speed (four rows by four panels: 3.5 ms over the
 * lm_head, one row's four-panel tile 3.0) and from L2 by the rest. On an Intel Xeon (Sapphire Rapids, two threads, the
 * reference shape from memory) that took 16 rows over the 49152-row lm_head from 6.7 to 5.9–6.3 ms and a served step of
 * 16 decoding rows ({@code bench decode-batch}) from 915 to 972 tokens/s (medians of five alternating pairs); the
 * eight-by-two tile going first waits on W with twice the arithmetic per line.
 */
final class PanelGemv {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Target bytes of W per task, so a chunk is reused from L2 across X rows. */
    private static final int CHUNK_BYTES = 256 * 1024;
    /** Bytes of W every tile of X rows passes over before the next (at least four panels). */
    private static final int PASS_BYTES = 128 * 1024;
    /** Rows of X that read a pass of W from memory, past eight rows; the others read it from L2. */
    private static final int STREAM_ROWS = 4;

    private PanelGemv() {
    }

    /**
     * Whether {@code w}'s products run here: an F32 or BF16 matrix mapped from a file, whose bytes never change and
     * whose pages the regrouped copy replaces ({@link WeightMatrix#droppingMappedPages}). Weights held in memory
     * (trainable, merged, dequantized) keep {@link Gemv}'s order; either way a matrix's order does not depend on the
     * rows.
     */
    static boolean handles(WeightMatrix w) {
        return (w.dtype() == DType.F32 || w.dtype() == DType.BF16) && w.dropsMappedPages();
    }

    /** The product's tasks for {@link Gemv#runEach}: chunks of panels; makes the regrouped copy on first use. */
    static Gemv.Tasks tasks(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff) {
        WeightPanels p = w.panels();
        long panelBytes = Math.max(1, p.panelElements * p.dtype.byteSize());
        int byCache = (int) Math.max(1, CHUNK_BYTES / panelBytes);
        int byThreads = PackedGemm.ceilDiv(p.panels, 8 * Parallel.threads());
        // a multiple of 8, the panels of the one-row BF16 tile, so that only the last chunk repeats a panel
        int chunk = (Math.min(byCache, byThreads) + 7) & ~7;
        return new Gemv.Tasks(PackedGemm.ceilDiv(p.panels, chunk),
                t -> rows(x, xOff, m, p, y, yOff, t * chunk, Math.min(p.panels, (t + 1) * chunk)));
    }

    /** Panels {@code [q0, q1)} of W against every row of X: {@code y[yOff + i·n + j]} for the rows j they hold. */
    static void rows(float[] x, int xOff, int m, WeightPanels p, float[] y, int yOff, int q0, int q1) {
        if (m <= 8) {
            tiles(x, xOff, m, p, y, yOff, q0, q1);
        } else {
            passes(x, xOff, m, p, y, yOff, q0, q1);
        }
    }

    /**
     * {@link #rows} past eight rows: over each pass of panels, {@link #STREAM_ROWS} rows from memory, then the rest
     * from L2. A method of its own: inside {@link #rows}, whose one-row path decoding takes, it left {@code bench
     * decode} 2.5% slower (12 of 14 alternating pairs on an Intel Xeon), likely by how C2 inlined the tiles.
     */
    private static void passes(float[] x, int xOff, int m, WeightPanels p, float[] y, int yOff, int q0, int q1) {
        int step = Math.max(4, (int) (PASS_BYTES / (p.panelElements * p.dtype.byteSize())) & ~3);
        int rest = m - STREAM_ROWS;
        for (int s0 = q0; s0 < q1; s0 += step) {
            int s1 = Math.min(q1, s0 + step);
            tiles(x, xOff, STREAM_ROWS, p, y, yOff, s0, s1);
            tiles(x, xOff + STREAM_ROWS * p.cols, rest, p, y, yOff + STREAM_ROWS * p.rows, s0, s1);
        }
    }

    /**
     * The tiles over panels {@code [q0, q1)}: X rows by eight (five to seven repeat the last), four, two, one. The
     * tiles take whole panels and store whole vectors; W's last panel, when its rows do not fill it, goes row by row
     * to {@link #partialPanel}. With masked stores the tiles were too big for C1 (out of virtual registers at tier 3),
     * and a JVM that had compiled one at tier 2 kept it in that code for good, every vector boxed
     * ({@code docs/PERFORMANCE.md}, "Two traps in the JIT compiler").
     */
    private static void tiles(float[] x, int xOff, int m, WeightPanels p, float[] y, int yOff, int q0, int q1) {
        int whole = Math.max(q0, Math.min(q1, p.rows / L));
        if (whole > q0) {
            wholeTiles(x, xOff, m, p, y, yOff, q0, whole);
        }
        if (whole < q1) {
            for (int i = 0; i < m; i++) {
                partialPanel(x, xOff + i * p.cols, p, y, yOff + i * p.rows, whole);
            }
        }
    }

    /** {@link #tiles} over whole panels {@code [q0, q1)}. */
    private static void wholeTiles(float[] x, int xOff, int m, WeightPanels p, float[] y, int yOff, int q0, int q1) {
        MemorySegment w = p.data;
        long panel = p.panelElements;
        int k = p.cols;
        int n = p.rows;
        boolean bf16 = p.dtype == DType.BF16;
        int i = 0;
        for (; m - i >= 5; i += 8) {
            if (bf16) {
                bf16Group8x2(x, xOff, i, m, k, w, panel, q0, q1, y, yOff, n);
            } else {
                group8x2(x, xOff, i, m, k, w, panel, q0, q1, y, yOff, n);
            }
        }
        if (m - i >= 3) {
            if (bf16) {
                bf16Group4x4(x, xOff, i, m, k, w, panel, q0, q1, y, yOff, n);
            } else {
                group4x4(x, xOff, i, m, k, w, panel, q0, q1, y, yOff, n);
            }
        } else if (m - i == 2) {
            if (bf16) {
                bf16Group2x4(x, xOff, i, m, k, w, panel, q0, q1, y, yOff, n);
            } else {
                group2x4(x, xOff, i, m, k, w, panel, q0, q1, y, yOff, n);
            }
        } else if (m - i == 1) {
            if (bf16) {
                bf16Group1x8(x, xOff, i, m, k, w, panel, q0, q1, y, yOff, n);
            } else {
                group1x4(x, xOff, i, m, k, w, panel, q0, q1, y, yOff, n);
            }
        }
    }

    /**
     * One row of X against panel {@code q}, W's last, whose rows do not fill it: one accumulator, the tiles' chain of
     * fused multiply-adds, a masked store.
     */
    private static void partialPanel(float[] x, int x0, WeightPanels p, float[] y, int y0, int q) {
        MemorySegment w = p.data;
        long w0 = q * p.panelElements;
        int k = p.cols;
        FloatVector a = FloatVector.zero(F);
        int c = 0;
        if (p.dtype == DType.BF16) {
            for (; c + 2 <= k; c += 2) {
                IntVector u = WeightVectors.bf16Pairs(w, w0 + (long) c * L);
                a = WeightVectors.bf16Even(u).fma(FloatVector.broadcast(F, x[x0 + c]), a);
                a = WeightVectors.bf16Odd(u).fma(FloatVector.broadcast(F, x[x0 + c + 1]), a);
            }
            if (c < k) {
                a = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w0 + (long) c * L))
                        .fma(FloatVector.broadcast(F, x[x0 + c]), a);
            }
        } else {
            for (; c < k; c++) {
                a = WeightVectors.f32(w, w0 + (long) c * L).fma(FloatVector.broadcast(F, x[x0 + c]), a);
            }
        }
        a.intoArray(y, y0 + q * L, F.indexInRange(q * L, p.rows));
    }

    /** Rows {@code [i0, i0 + 8)} of X (the last repeated past {@code m}) against two whole panels at a time, F32. */
    private static void group8x2(float[] x, int xOff, int i0, int m, int k, MemorySegment w, long panel,
                                 int q0, int q1, float[] y, int yOff, int n) {
        int x0 = xOff + i0 * k;
        int y0 = yOff + i0 * n;
        int x1 = xOff + Math.min(i0 + 1, m - 1) * k;
        int y1 = yOff + Math.min(i0 + 1, m - 1) * n;
        int x2 = xOff + Math.min(i0 + 2, m - 1) * k;
        int y2 = yOff + Math.min(i0 + 2, m - 1) * n;
        int x3 = xOff + Math.min(i0 + 3, m - 1) * k;
        int y3 = yOff + Math.min(i0 + 3, m - 1) * n;
        int x4 = xOff + Math.min(i0 + 4, m - 1) * k;
        int y4 = yOff + Math.min(i0 + 4, m - 1) * n;
        int x5 = xOff + Math.min(i0 + 5, m - 1) * k;
        int y5 = yOff + Math.min(i0 + 5, m - 1) * n;
        int x6 = xOff + Math.min(i0 + 6, m - 1) * k;
        int y6 = yOff + Math.min(i0 + 6, m - 1) * n;
        int x7 = xOff + Math.min(i0 + 7, m - 1) * k;
        int y7 = yOff + Math.min(i0 + 7, m - 1) * n;
        for (int q = q0; q < q1; q += 2) {
            long w0 = q * panel;
            int c0 = q * L;
            long w1 = Math.min(q + 1, q1 - 1) * panel;
            int c1 = Math.min(q + 1, q1 - 1) * L;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00, a40 = a00;
            FloatVector a41 = a00, a50 = a00, a51 = a00, a60 = a00, a61 = a00, a70 = a00, a71 = a00;
            for (int c = 0; c < k; c++) {
                FloatVector v0 = WeightVectors.f32(w, w0 + (long) c * L);
                FloatVector v1 = WeightVectors.f32(w, w1 + (long) c * L);
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = v0.fma(b0, a00);
                a01 = v1.fma(b0, a01);
                FloatVector b1 = FloatVector.broadcast(F, x[x1 + c]);
                a10 = v0.fma(b1, a10);
                a11 = v1.fma(b1, a11);
                FloatVector b2 = FloatVector.broadcast(F, x[x2 + c]);
                a20 = v0.fma(b2, a20);
                a21 = v1.fma(b2, a21);
                FloatVector b3 = FloatVector.broadcast(F, x[x3 + c]);
                a30 = v0.fma(b3, a30);
                a31 = v1.fma(b3, a31);
                FloatVector b4 = FloatVector.broadcast(F, x[x4 + c]);
                a40 = v0.fma(b4, a40);
                a41 = v1.fma(b4, a41);
                FloatVector b5 = FloatVector.broadcast(F, x[x5 + c]);
                a50 = v0.fma(b5, a50);
                a51 = v1.fma(b5, a51);
                FloatVector b6 = FloatVector.broadcast(F, x[x6 + c]);
                a60 = v0.fma(b6, a60);
                a61 = v1.fma(b6, a61);
                FloatVector b7 = FloatVector.broadcast(F, x[x7 + c]);
                a70 = v0.fma(b7, a70);
                a71 = v1.fma(b7, a71);
            }
            a00.intoArray(y, y0 + c0);
            a01.intoArray(y, y0 + c1);
            a10.intoArray(y, y1 + c0);
            a11.intoArray(y, y1 + c1);
            a20.intoArray(y, y2 + c0);
            a21.intoArray(y, y2 + c1);
            a30.intoArray(y, y3 + c0);
            a31.intoArray(y, y3 + c1);
            a40.intoArray(y, y4 + c0);
            a41.intoArray(y, y4 + c1);
            a50.intoArray(y, y5 + c0);
            a51.intoArray(y, y5 + c1);
            a60.intoArray(y, y6 + c0);
            a61.intoArray(y, y6 + c1);
            a70.intoArray(y, y7 + c0);
            a71.intoArray(y, y7 + c1);
        }
    }

    /** Rows {@code [i0, i0 + 4)} of X (the last one repeated past {@code m}) against four panels at a time, F32. */
    private static void group4x4(float[] x, int xOff, int i0, int m, int k, MemorySegment w, long panel,
                                 int q0, int q1, float[] y, int yOff, int n) {
        int x0 = xOff + i0 * k;
        int y0 = yOff + i0 * n;
        int x1 = xOff + Math.min(i0 + 1, m - 1) * k;
        int y1 = yOff + Math.min(i0 + 1, m - 1) * n;
        int x2 = xOff + Math.min(i0 + 2, m - 1) * k;
        int y2 = yOff + Math.min(i0 + 2, m - 1) * n;
        int x3 = xOff + Math.min(i0 + 3, m - 1) * k;
        int y3 = yOff + Math.min(i0 + 3, m - 1) * n;
        for (int q = q0; q < q1; q += 4) {
            long w0 = q * panel;
            int c0 = q * L;
            long w1 = Math.min(q + 1, q1 - 1) * panel;
            int c1 = Math.min(q + 1, q1 - 1) * L;
            long w2 = Math.min(q + 2, q1 - 1) * panel;
            int c2 = Math.min(q + 2, q1 - 1) * L;
            long w3 = Math.min(q + 3, q1 - 1) * panel;
            int c3 = Math.min(q + 3, q1 - 1) * L;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00;
            FloatVector a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int c = 0; c < k; c++) {
                FloatVector v0 = WeightVectors.f32(w, w0 + (long) c * L);
                FloatVector v1 = WeightVectors.f32(w, w1 + (long) c * L);
                FloatVector v2 = WeightVectors.f32(w, w2 + (long) c * L);
                FloatVector v3 = WeightVectors.f32(w, w3 + (long) c * L);
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = v0.fma(b0, a00);
                a01 = v1.fma(b0, a01);
                a02 = v2.fma(b0, a02);
                a03 = v3.fma(b0, a03);
                FloatVector b1 = FloatVector.broadcast(F, x[x1 + c]);
                a10 = v0.fma(b1, a10);
                a11 = v1.fma(b1, a11);
                a12 = v2.fma(b1, a12);
                a13 = v3.fma(b1, a13);
                FloatVector b2 = FloatVector.broadcast(F, x[x2 + c]);
                a20 = v0.fma(b2, a20);
                a21 = v1.fma(b2, a21);
                a22 = v2.fma(b2, a22);
                a23 = v3.fma(b2, a23);
                FloatVector b3 = FloatVector.broadcast(F, x[x3 + c]);
                a30 = v0.fma(b3, a30);
                a31 = v1.fma(b3, a31);
                a32 = v2.fma(b3, a32);
                a33 = v3.fma(b3, a33);
            }
            a00.intoArray(y, y0 + c0);
            a01.intoArray(y, y0 + c1);
            a02.intoArray(y, y0 + c2);
            a03.intoArray(y, y0 + c3);
            a10.intoArray(y, y1 + c0);
            a11.intoArray(y, y1 + c1);
            a12.intoArray(y, y1 + c2);
            a13.intoArray(y, y1 + c3);
            a20.intoArray(y, y2 + c0);
            a21.intoArray(y, y2 + c1);
            a22.intoArray(y, y2 + c2);
            a23.intoArray(y, y2 + c3);
            a30.intoArray(y, y3 + c0);
            a31.intoArray(y, y3 + c1);
            a32.intoArray(y, y3 + c2);
            a33.intoArray(y, y3 + c3);
        }
    }

    /** Rows {@code i0} and {@code i0 + 1} of X against four panels at a time, F32. */
    private static void group2x4(float[] x, int xOff, int i0, int m, int k, MemorySegment w, long panel,
                                 int q0, int q1, float[] y, int yOff, int n) {
        int x0 = xOff + i0 * k;
        int y0 = yOff + i0 * n;
        int x1 = xOff + Math.min(i0 + 1, m - 1) * k;
        int y1 = yOff + Math.min(i0 + 1, m - 1) * n;
        for (int q = q0; q < q1; q += 4) {
            long w0 = q * panel;
            int c0 = q * L;
            long w1 = Math.min(q + 1, q1 - 1) * panel;
            int c1 = Math.min(q + 1, q1 - 1) * L;
            long w2 = Math.min(q + 2, q1 - 1) * panel;
            int c2 = Math.min(q + 2, q1 - 1) * L;
            long w3 = Math.min(q + 3, q1 - 1) * panel;
            int c3 = Math.min(q + 3, q1 - 1) * L;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            for (int c = 0; c < k; c++) {
                FloatVector v0 = WeightVectors.f32(w, w0 + (long) c * L);
                FloatVector v1 = WeightVectors.f32(w, w1 + (long) c * L);
                FloatVector v2 = WeightVectors.f32(w, w2 + (long) c * L);
                FloatVector v3 = WeightVectors.f32(w, w3 + (long) c * L);
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = v0.fma(b0, a00);
                a01 = v1.fma(b0, a01);
                a02 = v2.fma(b0, a02);
                a03 = v3.fma(b0, a03);
                FloatVector b1 = FloatVector.broadcast(F, x[x1 + c]);
                a10 = v0.fma(b1, a10);
                a11 = v1.fma(b1, a11);
                a12 = v2.fma(b1, a12);
                a13 = v3.fma(b1, a13);
            }
            a00.intoArray(y, y0 + c0);
            a01.intoArray(y, y0 + c1);
            a02.intoArray(y, y0 + c2);
            a03.intoArray(y, y0 + c3);
            a10.intoArray(y, y1 + c0);
            a11.intoArray(y, y1 + c1);
            a12.intoArray(y, y1 + c2);
            a13.intoArray(y, y1 + c3);
        }
    }

    /** Row {@code i0} of X against four panels at a time, F32. */
    private static void group1x4(float[] x, int xOff, int i0, int m, int k, MemorySegment w, long panel,
                                 int q0, int q1, float[] y, int yOff, int n) {
        int x0 = xOff + i0 * k;
        int y0 = yOff + i0 * n;
        for (int q = q0; q < q1; q += 4) {
            long w0 = q * panel;
            int c0 = q * L;
            long w1 = Math.min(q + 1, q1 - 1) * panel;
            int c1 = Math.min(q + 1, q1 - 1) * L;
            long w2 = Math.min(q + 2, q1 - 1) * panel;
            int c2 = Math.min(q + 2, q1 - 1) * L;
            long w3 = Math.min(q + 3, q1 - 1) * panel;
            int c3 = Math.min(q + 3, q1 - 1) * L;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a02 = a00, a03 = a00;
            for (int c = 0; c < k; c++) {
                FloatVector v0 = WeightVectors.f32(w, w0 + (long) c * L);
                FloatVector v1 = WeightVectors.f32(w, w1 + (long) c * L);
                FloatVector v2 = WeightVectors.f32(w, w2 + (long) c * L);
                FloatVector v3 = WeightVectors.f32(w, w3 + (long) c * L);
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = v0.fma(b0, a00);
                a01 = v1.fma(b0, a01);
                a02 = v2.fma(b0, a02);
                a03 = v3.fma(b0, a03);
            }
            a00.intoArray(y, y0 + c0);
            a01.intoArray(y, y0 + c1);
            a02.intoArray(y, y0 + c2);
            a03.intoArray(y, y0 + c3);
        }
    }

    /**
     * Rows {@code [i0, i0 + 8)} of X (the last one repeated past {@code m}) against two whole panels at a time, BF16.
     */
    private static void bf16Group8x2(float[] x, int xOff, int i0, int m, int k, MemorySegment w, long panel,
                                     int q0, int q1, float[] y, int yOff, int n) {
        int x0 = xOff + i0 * k;
        int y0 = yOff + i0 * n;
        int x1 = xOff + Math.min(i0 + 1, m - 1) * k;
        int y1 = yOff + Math.min(i0 + 1, m - 1) * n;
        int x2 = xOff + Math.min(i0 + 2, m - 1) * k;
        int y2 = yOff + Math.min(i0 + 2, m - 1) * n;
        int x3 = xOff + Math.min(i0 + 3, m - 1) * k;
        int y3 = yOff + Math.min(i0 + 3, m - 1) * n;
        int x4 = xOff + Math.min(i0 + 4, m - 1) * k;
        int y4 = yOff + Math.min(i0 + 4, m - 1) * n;
        int x5 = xOff + Math.min(i0 + 5, m - 1) * k;
        int y5 = yOff + Math.min(i0 + 5, m - 1) * n;
        int x6 = xOff + Math.min(i0 + 6, m - 1) * k;
        int y6 = yOff + Math.min(i0 + 6, m - 1) * n;
        int x7 = xOff + Math.min(i0 + 7, m - 1) * k;
        int y7 = yOff + Math.min(i0 + 7, m - 1) * n;
        for (int q = q0; q < q1; q += 2) {
            long w0 = q * panel;
            int c0 = q * L;
            long w1 = Math.min(q + 1, q1 - 1) * panel;
            int c1 = Math.min(q + 1, q1 - 1) * L;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00, a40 = a00;
            FloatVector a41 = a00, a50 = a00, a51 = a00, a60 = a00, a61 = a00, a70 = a00, a71 = a00;
            int c = 0;
            for (; c + 2 <= k; c += 2) {
                IntVector u0 = WeightVectors.bf16Pairs(w, w0 + (long) c * L);
                IntVector u1 = WeightVectors.bf16Pairs(w, w1 + (long) c * L);
                FloatVector e0 = WeightVectors.bf16Even(u0);
                FloatVector e1 = WeightVectors.bf16Even(u1);
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = e0.fma(b0, a00);
                a01 = e1.fma(b0, a01);
                FloatVector b1 = FloatVector.broadcast(F, x[x1 + c]);
                a10 = e0.fma(b1, a10);
                a11 = e1.fma(b1, a11);
                FloatVector b2 = FloatVector.broadcast(F, x[x2 + c]);
                a20 = e0.fma(b2, a20);
                a21 = e1.fma(b2, a21);
                FloatVector b3 = FloatVector.broadcast(F, x[x3 + c]);
                a30 = e0.fma(b3, a30);
                a31 = e1.fma(b3, a31);
                FloatVector b4 = FloatVector.broadcast(F, x[x4 + c]);
                a40 = e0.fma(b4, a40);
                a41 = e1.fma(b4, a41);
                FloatVector b5 = FloatVector.broadcast(F, x[x5 + c]);
                a50 = e0.fma(b5, a50);
                a51 = e1.fma(b5, a51);
                FloatVector b6 = FloatVector.broadcast(F, x[x6 + c]);
                a60 = e0.fma(b6, a60);
                a61 = e1.fma(b6, a61);
                FloatVector b7 = FloatVector.broadcast(F, x[x7 + c]);
                a70 = e0.fma(b7, a70);
                a71 = e1.fma(b7, a71);
                FloatVector o0 = WeightVectors.bf16Odd(u0);
                FloatVector o1 = WeightVectors.bf16Odd(u1);
                b0 = FloatVector.broadcast(F, x[x0 + c + 1]);
                a00 = o0.fma(b0, a00);
                a01 = o1.fma(b0, a01);
                b1 = FloatVector.broadcast(F, x[x1 + c + 1]);
                a10 = o0.fma(b1, a10);
                a11 = o1.fma(b1, a11);
                b2 = FloatVector.broadcast(F, x[x2 + c + 1]);
                a20 = o0.fma(b2, a20);
                a21 = o1.fma(b2, a21);
                b3 = FloatVector.broadcast(F, x[x3 + c + 1]);
                a30 = o0.fma(b3, a30);
                a31 = o1.fma(b3, a31);
                b4 = FloatVector.broadcast(F, x[x4 + c + 1]);
                a40 = o0.fma(b4, a40);
                a41 = o1.fma(b4, a41);
                b5 = FloatVector.broadcast(F, x[x5 + c + 1]);
                a50 = o0.fma(b5, a50);
                a51 = o1.fma(b5, a51);
                b6 = FloatVector.broadcast(F, x[x6 + c + 1]);
                a60 = o0.fma(b6, a60);
                a61 = o1.fma(b6, a61);
                b7 = FloatVector.broadcast(F, x[x7 + c + 1]);
                a70 = o0.fma(b7, a70);
                a71 = o1.fma(b7, a71);
            }
            if (c < k) {
                FloatVector e0 = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w0 + (long) c * L));
                FloatVector e1 = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w1 + (long) c * L));
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = e0.fma(b0, a00);
                a01 = e1.fma(b0, a01);
                FloatVector b1 = FloatVector.broadcast(F, x[x1 + c]);
                a10 = e0.fma(b1, a10);
                a11 = e1.fma(b1, a11);
                FloatVector b2 = FloatVector.broadcast(F, x[x2 + c]);
                a20 = e0.fma(b2, a20);
                a21 = e1.fma(b2, a21);
                FloatVector b3 = FloatVector.broadcast(F, x[x3 + c]);
                a30 = e0.fma(b3, a30);
                a31 = e1.fma(b3, a31);
                FloatVector b4 = FloatVector.broadcast(F, x[x4 + c]);
                a40 = e0.fma(b4, a40);
                a41 = e1.fma(b4, a41);
                FloatVector b5 = FloatVector.broadcast(F, x[x5 + c]);
                a50 = e0.fma(b5, a50);
                a51 = e1.fma(b5, a51);
                FloatVector b6 = FloatVector.broadcast(F, x[x6 + c]);
                a60 = e0.fma(b6, a60);
                a61 = e1.fma(b6, a61);
                FloatVector b7 = FloatVector.broadcast(F, x[x7 + c]);
                a70 = e0.fma(b7, a70);
                a71 = e1.fma(b7, a71);
            }
            a00.intoArray(y, y0 + c0);
            a01.intoArray(y, y0 + c1);
            a10.intoArray(y, y1 + c0);
            a11.intoArray(y, y1 + c1);
            a20.intoArray(y, y2 + c0);
            a21.intoArray(y, y2 + c1);
            a30.intoArray(y, y3 + c0);
            a31.intoArray(y, y3 + c1);
            a40.intoArray(y, y4 + c0);
            a41.intoArray(y, y4 + c1);
            a50.intoArray(y, y5 + c0);
            a51.intoArray(y, y5 + c1);
            a60.intoArray(y, y6 + c0);
            a61.intoArray(y, y6 + c1);
            a70.intoArray(y, y7 + c0);
            a71.intoArray(y, y7 + c1);
        }
    }

    /** Rows {@code [i0, i0 + 4)} of X (the last one repeated past {@code m}) against four panels at a time, BF16. */
    private static void bf16Group4x4(float[] x, int xOff, int i0, int m, int k, MemorySegment w, long panel,
                                     int q0, int q1, float[] y, int yOff, int n) {
        int x0 = xOff + i0 * k;
        int y0 = yOff + i0 * n;
        int x1 = xOff + Math.min(i0 + 1, m - 1) * k;
        int y1 = yOff + Math.min(i0 + 1, m - 1) * n;
        int x2 = xOff + Math.min(i0 + 2, m - 1) * k;
        int y2 = yOff + Math.min(i0 + 2, m - 1) * n;
        int x3 = xOff + Math.min(i0 + 3, m - 1) * k;
        int y3 = yOff + Math.min(i0 + 3, m - 1) * n;
        for (int q = q0; q < q1; q += 4) {
            long w0 = q * panel;
            int c0 = q * L;
            long w1 = Math.min(q + 1, q1 - 1) * panel;
            int c1 = Math.min(q + 1, q1 - 1) * L;
            long w2 = Math.min(q + 2, q1 - 1) * panel;
            int c2 = Math.min(q + 2, q1 - 1) * L;
            long w3 = Math.min(q + 3, q1 - 1) * panel;
            int c3 = Math.min(q + 3, q1 - 1) * L;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00;
            FloatVector a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            int c = 0;
            for (; c + 2 <= k; c += 2) {
                IntVector u0 = WeightVectors.bf16Pairs(w, w0 + (long) c * L);
                IntVector u1 = WeightVectors.bf16Pairs(w, w1 + (long) c * L);
                IntVector u2 = WeightVectors.bf16Pairs(w, w2 + (long) c * L);
                IntVector u3 = WeightVectors.bf16Pairs(w, w3 + (long) c * L);
                FloatVector e0 = WeightVectors.bf16Even(u0);
                FloatVector e1 = WeightVectors.bf16Even(u1);
                FloatVector e2 = WeightVectors.bf16Even(u2);
                FloatVector e3 = WeightVectors.bf16Even(u3);
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = e0.fma(b0, a00);
                a01 = e1.fma(b0, a01);
                a02 = e2.fma(b0, a02);
                a03 = e3.fma(b0, a03);
                FloatVector b1 = FloatVector.broadcast(F, x[x1 + c]);
                a10 = e0.fma(b1, a10);
                a11 = e1.fma(b1, a11);
                a12 = e2.fma(b1, a12);
                a13 = e3.fma(b1, a13);
                FloatVector b2 = FloatVector.broadcast(F, x[x2 + c]);
                a20 = e0.fma(b2, a20);
                a21 = e1.fma(b2, a21);
                a22 = e2.fma(b2, a22);
                a23 = e3.fma(b2, a23);
                FloatVector b3 = FloatVector.broadcast(F, x[x3 + c]);
                a30 = e0.fma(b3, a30);
                a31 = e1.fma(b3, a31);
                a32 = e2.fma(b3, a32);
                a33 = e3.fma(b3, a33);
                FloatVector o0 = WeightVectors.bf16Odd(u0);
                FloatVector o1 = WeightVectors.bf16Odd(u1);
                FloatVector o2 = WeightVectors.bf16Odd(u2);
                FloatVector o3 = WeightVectors.bf16Odd(u3);
                b0 = FloatVector.broadcast(F, x[x0 + c + 1]);
                a00 = o0.fma(b0, a00);
                a01 = o1.fma(b0, a01);
                a02 = o2.fma(b0, a02);
                a03 = o3.fma(b0, a03);
                b1 = FloatVector.broadcast(F, x[x1 + c + 1]);
                a10 = o0.fma(b1, a10);
                a11 = o1.fma(b1, a11);
                a12 = o2.fma(b1, a12);
                a13 = o3.fma(b1, a13);
                b2 = FloatVector.broadcast(F, x[x2 + c + 1]);
                a20 = o0.fma(b2, a20);
                a21 = o1.fma(b2, a21);
                a22 = o2.fma(b2, a22);
                a23 = o3.fma(b2, a23);
                b3 = FloatVector.broadcast(F, x[x3 + c + 1]);
                a30 = o0.fma(b3, a30);
                a31 = o1.fma(b3, a31);
                a32 = o2.fma(b3, a32);
                a33 = o3.fma(b3, a33);
            }
            if (c < k) {
                FloatVector e0 = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w0 + (long) c * L));
                FloatVector e1 = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w1 + (long) c * L));
                FloatVector e2 = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w2 + (long) c * L));
                FloatVector e3 = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w3 + (long) c * L));
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = e0.fma(b0, a00);
                a01 = e1.fma(b0, a01);
                a02 = e2.fma(b0, a02);
                a03 = e3.fma(b0, a03);
                FloatVector b1 = FloatVector.broadcast(F, x[x1 + c]);
                a10 = e0.fma(b1, a10);
                a11 = e1.fma(b1, a11);
                a12 = e2.fma(b1, a12);
                a13 = e3.fma(b1, a13);
                FloatVector b2 = FloatVector.broadcast(F, x[x2 + c]);
                a20 = e0.fma(b2, a20);
                a21 = e1.fma(b2, a21);
                a22 = e2.fma(b2, a22);
                a23 = e3.fma(b2, a23);
                FloatVector b3 = FloatVector.broadcast(F, x[x3 + c]);
                a30 = e0.fma(b3, a30);
                a31 = e1.fma(b3, a31);
                a32 = e2.fma(b3, a32);
                a33 = e3.fma(b3, a33);
            }
            a00.intoArray(y, y0 + c0);
            a01.intoArray(y, y0 + c1);
            a02.intoArray(y, y0 + c2);
            a03.intoArray(y, y0 + c3);
            a10.intoArray(y, y1 + c0);
            a11.intoArray(y, y1 + c1);
            a12.intoArray(y, y1 + c2);
            a13.intoArray(y, y1 + c3);
            a20.intoArray(y, y2 + c0);
            a21.intoArray(y, y2 + c1);
            a22.intoArray(y, y2 + c2);
            a23.intoArray(y, y2 + c3);
            a30.intoArray(y, y3 + c0);
            a31.intoArray(y, y3 + c1);
            a32.intoArray(y, y3 + c2);
            a33.intoArray(y, y3 + c3);
        }
    }

    /** Rows {@code i0} and {@code i0 + 1} of X against four panels at a time, BF16. */
    private static void bf16Group2x4(float[] x, int xOff, int i0, int m, int k, MemorySegment w, long panel,
                                     int q0, int q1, float[] y, int yOff, int n) {
        int x0 = xOff + i0 * k;
        int y0 = yOff + i0 * n;
        int x1 = xOff + Math.min(i0 + 1, m - 1) * k;
        int y1 = yOff + Math.min(i0 + 1, m - 1) * n;
        for (int q = q0; q < q1; q += 4) {
            long w0 = q * panel;
            int c0 = q * L;
            long w1 = Math.min(q + 1, q1 - 1) * panel;
            int c1 = Math.min(q + 1, q1 - 1) * L;
            long w2 = Math.min(q + 2, q1 - 1) * panel;
            int c2 = Math.min(q + 2, q1 - 1) * L;
            long w3 = Math.min(q + 3, q1 - 1) * panel;
            int c3 = Math.min(q + 3, q1 - 1) * L;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            int c = 0;
            for (; c + 2 <= k; c += 2) {
                IntVector u0 = WeightVectors.bf16Pairs(w, w0 + (long) c * L);
                IntVector u1 = WeightVectors.bf16Pairs(w, w1 + (long) c * L);
                IntVector u2 = WeightVectors.bf16Pairs(w, w2 + (long) c * L);
                IntVector u3 = WeightVectors.bf16Pairs(w, w3 + (long) c * L);
                FloatVector e0 = WeightVectors.bf16Even(u0);
                FloatVector e1 = WeightVectors.bf16Even(u1);
                FloatVector e2 = WeightVectors.bf16Even(u2);
                FloatVector e3 = WeightVectors.bf16Even(u3);
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = e0.fma(b0, a00);
                a01 = e1.fma(b0, a01);
                a02 = e2.fma(b0, a02);
                a03 = e3.fma(b0, a03);
                FloatVector b1 = FloatVector.broadcast(F, x[x1 + c]);
                a10 = e0.fma(b1, a10);
                a11 = e1.fma(b1, a11);
                a12 = e2.fma(b1, a12);
                a13 = e3.fma(b1, a13);
                FloatVector o0 = WeightVectors.bf16Odd(u0);
                FloatVector o1 = WeightVectors.bf16Odd(u1);
                FloatVector o2 = WeightVectors.bf16Odd(u2);
                FloatVector o3 = WeightVectors.bf16Odd(u3);
                b0 = FloatVector.broadcast(F, x[x0 + c + 1]);
                a00 = o0.fma(b0, a00);
                a01 = o1.fma(b0, a01);
                a02 = o2.fma(b0, a02);
                a03 = o3.fma(b0, a03);
                b1 = FloatVector.broadcast(F, x[x1 + c + 1]);
                a10 = o0.fma(b1, a10);
                a11 = o1.fma(b1, a11);
                a12 = o2.fma(b1, a12);
                a13 = o3.fma(b1, a13);
            }
            if (c < k) {
                FloatVector e0 = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w0 + (long) c * L));
                FloatVector e1 = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w1 + (long) c * L));
                FloatVector e2 = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w2 + (long) c * L));
                FloatVector e3 = WeightVectors.bf16Even(WeightVectors.bf16Pairs(w, w3 + (long) c * L));
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = e0.fma(b0, a00);
                a01 = e1.fma(b0, a01);
                a02 = e2.fma(b0, a02);
                a03 = e3.fma(b0, a03);
                FloatVector b1 = FloatVector.broadcast(F, x[x1 + c]);
                a10 = e0.fma(b1, a10);
                a11 = e1.fma(b1, a11);
                a12 = e2.fma(b1, a12);
                a13 = e3.fma(b1, a13);
            }
            a00.intoArray(y, y0 + c0);
            a01.intoArray(y, y0 + c1);
            a02.intoArray(y, y0 + c2);
            a03.intoArray(y, y0 + c3);
            a10.intoArray(y, y1 + c0);
            a11.intoArray(y, y1 + c1);
            a12.intoArray(y, y1 + c2);
            a13.intoArray(y, y1 + c3);
        }
    }

    /**
     * Row {@code i0} of X against eight whole panels at a time, BF16: eight streams of W, 10% faster than four when
     * decoding on an AMD Zen 5 (a model-shaped harness, 54 → 60 GB/s). Its loads and widenings are written out, not
     * taken from {@link WeightVectors}: a kernel this size calling them was not inlined whole, and ran at a fifth of
     * the speed.
     */
    private static void bf16Group1x8(float[] x, int xOff, int i0, int m, int k, MemorySegment w, long panel,
                                     int q0, int q1, float[] y, int yOff, int n) {
        int x0 = xOff + i0 * k;
        int y0 = yOff + i0 * n;
        for (int q = q0; q < q1; q += 8) {
            long w0 = q * panel;
            int c0 = q * L;
            long w1 = Math.min(q + 1, q1 - 1) * panel;
            int c1 = Math.min(q + 1, q1 - 1) * L;
            long w2 = Math.min(q + 2, q1 - 1) * panel;
            int c2 = Math.min(q + 2, q1 - 1) * L;
            long w3 = Math.min(q + 3, q1 - 1) * panel;
            int c3 = Math.min(q + 3, q1 - 1) * L;
            long w4 = Math.min(q + 4, q1 - 1) * panel;
            int c4 = Math.min(q + 4, q1 - 1) * L;
            long w5 = Math.min(q + 5, q1 - 1) * panel;
            int c5 = Math.min(q + 5, q1 - 1) * L;
            long w6 = Math.min(q + 6, q1 - 1) * panel;
            int c6 = Math.min(q + 6, q1 - 1) * L;
            long w7 = Math.min(q + 7, q1 - 1) * panel;
            int c7 = Math.min(q + 7, q1 - 1) * L;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a06 = a00, a07 = a00;
            int c = 0;
            for (; c + 2 <= k; c += 2) {
                IntVector u0 = IntVector.fromMemorySegment(I, w, (w0 + (long) c * L) << 1, LE);
                IntVector u1 = IntVector.fromMemorySegment(I, w, (w1 + (long) c * L) << 1, LE);
                IntVector u2 = IntVector.fromMemorySegment(I, w, (w2 + (long) c * L) << 1, LE);
                IntVector u3 = IntVector.fromMemorySegment(I, w, (w3 + (long) c * L) << 1, LE);
                IntVector u4 = IntVector.fromMemorySegment(I, w, (w4 + (long) c * L) << 1, LE);
                IntVector u5 = IntVector.fromMemorySegment(I, w, (w5 + (long) c * L) << 1, LE);
                IntVector u6 = IntVector.fromMemorySegment(I, w, (w6 + (long) c * L) << 1, LE);
                IntVector u7 = IntVector.fromMemorySegment(I, w, (w7 + (long) c * L) << 1, LE);
                FloatVector e0 = u0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector e1 = u1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector e2 = u2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector e3 = u3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector e4 = u4.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector e5 = u5.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector e6 = u6.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector e7 = u7.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = e0.fma(b0, a00);
                a01 = e1.fma(b0, a01);
                a02 = e2.fma(b0, a02);
                a03 = e3.fma(b0, a03);
                a04 = e4.fma(b0, a04);
                a05 = e5.fma(b0, a05);
                a06 = e6.fma(b0, a06);
                a07 = e7.fma(b0, a07);
                FloatVector o0 = u0.and(0xFFFF0000).reinterpretAsFloats();
                FloatVector o1 = u1.and(0xFFFF0000).reinterpretAsFloats();
                FloatVector o2 = u2.and(0xFFFF0000).reinterpretAsFloats();
                FloatVector o3 = u3.and(0xFFFF0000).reinterpretAsFloats();
                FloatVector o4 = u4.and(0xFFFF0000).reinterpretAsFloats();
                FloatVector o5 = u5.and(0xFFFF0000).reinterpretAsFloats();
                FloatVector o6 = u6.and(0xFFFF0000).reinterpretAsFloats();
                FloatVector o7 = u7.and(0xFFFF0000).reinterpretAsFloats();
                b0 = FloatVector.broadcast(F, x[x0 + c + 1]);
                a00 = o0.fma(b0, a00);
                a01 = o1.fma(b0, a01);
                a02 = o2.fma(b0, a02);
                a03 = o3.fma(b0, a03);
                a04 = o4.fma(b0, a04);
                a05 = o5.fma(b0, a05);
                a06 = o6.fma(b0, a06);
                a07 = o7.fma(b0, a07);
            }
            if (c < k) {
                IntVector u0 = IntVector.fromMemorySegment(I, w, (w0 + (long) c * L) << 1, LE);
                FloatVector e0 = u0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                IntVector u1 = IntVector.fromMemorySegment(I, w, (w1 + (long) c * L) << 1, LE);
                FloatVector e1 = u1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                IntVector u2 = IntVector.fromMemorySegment(I, w, (w2 + (long) c * L) << 1, LE);
                FloatVector e2 = u2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                IntVector u3 = IntVector.fromMemorySegment(I, w, (w3 + (long) c * L) << 1, LE);
                FloatVector e3 = u3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                IntVector u4 = IntVector.fromMemorySegment(I, w, (w4 + (long) c * L) << 1, LE);
                FloatVector e4 = u4.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                IntVector u5 = IntVector.fromMemorySegment(I, w, (w5 + (long) c * L) << 1, LE);
                FloatVector e5 = u5.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                IntVector u6 = IntVector.fromMemorySegment(I, w, (w6 + (long) c * L) << 1, LE);
                FloatVector e6 = u6.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                IntVector u7 = IntVector.fromMemorySegment(I, w, (w7 + (long) c * L) << 1, LE);
                FloatVector e7 = u7.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector b0 = FloatVector.broadcast(F, x[x0 + c]);
                a00 = e0.fma(b0, a00);
                a01 = e1.fma(b0, a01);
                a02 = e2.fma(b0, a02);
                a03 = e3.fma(b0, a03);
                a04 = e4.fma(b0, a04);
                a05 = e5.fma(b0, a05);
                a06 = e6.fma(b0, a06);
                a07 = e7.fma(b0, a07);
            }
            a00.intoArray(y, y0 + c0);
            a01.intoArray(y, y0 + c1);
            a02.intoArray(y, y0 + c2);
            a03.intoArray(y, y0 + c3);
            a04.intoArray(y, y0 + c4);
            a05.intoArray(y, y0 + c5);
            a06.intoArray(y, y0 + c6);
            a07.intoArray(y, y0 + c7);
        }
    }
}
