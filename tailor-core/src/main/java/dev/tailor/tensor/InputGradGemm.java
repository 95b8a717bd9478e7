package dev.tailor.tensor;

import static dev.tailor.tensor.PackedGemm.KC_MAX;
import static dev.tailor.tensor.PackedGemm.MR;
import static dev.tailor.tensor.PackedGemm.NR;
import static dev.tailor.tensor.PackedGemm.ceilDiv;
import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * {@code dX = dY·W} for a linear layer's backward pass: an NN product whose right operand is W itself,
 * {@code [n, k]} row-major with the reduction over its rows.
 *
 * <p>Runs {@link PackedGemm}'s loop nest and micro-kernels with dY in the role of X and this class's
 * packer in place of the forward one. A panel of B = W is {@code NR} consecutive columns of consecutive W
 * rows, so packing is a run of contiguous two-vector copies per W row, widened from BF16/F16 in-register
 * ({@link WeightVectors}); only a ragged last panel is copied element by element and zero-padded.
 *
 * <p>A frozen Q8_0 or Q4_0 W is dequantized into the panels ({@link QuantPack#packRows}), two vectors per panel
 * row as for BF16.
 *
 * <p>That loop nest parallelizes over columns of dX, so every task reads all of dY and strided pieces of
 * every W row. For a long reduction (the lm_head, 49152 rows of W against 576 columns) this costs memory
 * traffic, so there the reduction is split instead: see {@link #splitRows}.
 */
final class InputGradGemm {
    /** From this many rows of W on, the reduction is split across tasks ({@link #splitRows}). */
    static final int SPLIT_MIN_ROWS = 8192;
    private static final int SPLIT_TASKS_PER_THREAD = 4;
    /** Smallest k block of the split path. */
    private static final int KC_MIN = 64;
    private static final ThreadLocal<float[]> PARTIALS = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> PACK = ThreadLocal.withInitial(() -> new float[0]);

    private InputGradGemm() {
    }

    /**
     * {@code dx[i, c] = Σ_j dy[i, j] · w[j, c]} for {@code i < m}, overwriting dx, or adding into it when
     * {@code accumulate}; {@code w.rows() > 0}.
     */
    static void run(float[] dy, int m, WeightMatrix w, float[] dx, boolean accumulate) {
        if (w.rows() >= SPLIT_MIN_ROWS) {
            splitRows(dy, m, w, dx, accumulate);
        } else {
            PackedGemm.run(dy, 0, m, w.cols(), w.rows(), (c0, c1, p0, kb, dst) -> pack(w, c0, c1, p0, kb, dst),
                    dx, 0, accumulate);
        }
    }

    /**
     * The long-reduction path (the lm_head): tasks take contiguous ranges of W rows, so each streams its rows
     * whole, in order, and reads its columns of dY once, into a partial dX of its own; the partials are summed
     * at the end. Per k block all of the block's W rows are packed (the block is sized so the pack stays in
     * L2) and every {@code MR}-row tile of dY runs over every panel.
     */
    private static void splitRows(float[] dy, int m, WeightMatrix w, float[] dx, boolean accumulate) {
        int n = w.rows();
        int k = w.cols();
        int size = m * k;
        // partial dX buffers stay below half of W's float count
        int parts = Math.max(1, Math.min(Math.min(SPLIT_TASKS_PER_THREAD * Parallel.threads(), n / KC_MIN),
                1 + n / (2 * m)));
        float[] partials = Scratch.floats(PARTIALS, (parts - 1) * size);
        int panels = ceilDiv(k, NR);
        int kc = Math.max(KC_MIN, Math.min(KC_MAX, PackedGemm.GROUP_BYTES / (panels * NR * Float.BYTES)));
        Parallel.parallelFor(parts, t -> {
            float[] y = t == 0 ? dx : partials;
            int yOff = t == 0 ? 0 : (t - 1) * size;
            rows(dy, m, w, (int) ((long) n * t / parts), (int) ((long) n * (t + 1) / parts), kc, y, yOff,
                    t == 0 && accumulate);
        });
        Parallel.parallelForRange(size, (from, to) -> {
            for (int t = 1; t < parts; t++) {
                int off = (t - 1) * size;
                for (int i = from; i < to; i++) {
                    dx[i] += partials[off + i];
                }
            }
        });
    }

    /**
     * {@code y[yOff + i·k + c] (+)= Σ_{j ∈ [j0, j1)} dy[i, j] · w[j, c]}: all of dX over a range of W rows, added
     * into y when {@code accumulate}.
     */
    private static void rows(float[] dy, int m, WeightMatrix w, int j0, int j1, int kc, float[] y, int yOff,
                             boolean accumulate) {
        int n = w.rows();
        int k = w.cols();
        int np = ceilDiv(k, NR);
        float[] b = Scratch.floats(PACK, np * kc * NR);
        for (int p0 = j0; p0 < j1; p0 += kc) {
            int kb = Math.min(kc, j1 - p0);
            pack(w, 0, k, p0, kb, b);
            boolean first = !accumulate && p0 == j0;
            int i = 0;
            for (; i + MR <= m; i += MR) {
                for (int q = 0; q < np; q++) {
                    PackedGemm.kernel(dy, i * n + p0, n, b, q * kb * NR, kb,
                            y, yOff + i * k + q * NR, k, Math.min(NR, k - q * NR), first);
                }
            }
            if (i < m) {
                for (int q = 0; q < np; q++) {
                    PackedGemm.kernelTail(m - i, dy, i * n + p0, n, b, q * kb * NR, kb,
                            y, yOff + i * k + q * NR, k, Math.min(NR, k - q * NR), first);
                }
            }
        }
    }

    /**
     * Packs W rows {@code [p0, p0 + kb)}, columns {@code [c0, c1)} as {@code [panel][p][NR]}: the panel layout
     * of {@link PackedGemm.PanelPacker} with B = W.
     */
    static void pack(WeightMatrix w, int c0, int c1, int p0, int kb, float[] dst) {
        if (w.dtype().isQuantized()) {
            QuantPack.packRows(w, c0, c1, p0, kb, dst);
            return;
        }
        int full = (c1 - c0) / NR;
        switch (w.dtype()) {
            case F32 -> packF32(w.data(), w.cols(), c0, full, p0, kb, dst);
            case BF16 -> packBf16(w.data(), w.cols(), c0, full, p0, kb, dst);
            case F16 -> packF16(w.data(), w.cols(), c0, full, p0, kb, dst);
            default -> throw new IllegalArgumentException("not a float weight type: " + w.dtype());
        }
        int cr = c0 + full * NR;
        if (cr < c1) {
            int base = full * kb * NR;
            for (int p = 0; p < kb; p++) {
                long row = (long) (p0 + p) * w.cols();
                int d = base + p * NR;
                for (int jj = 0; jj < NR; jj++) {
                    int c = cr + jj;
                    dst[d + jj] = c < c1 ? Numerics.load(w.data(), w.dtype(), row + c) : 0f;
                }
            }
        }
    }

    // One loop per type, as in Gemv, so each compiles to straight vector code.

    private static void packF32(MemorySegment w, long k, int c0, int full, int p0, int kb, float[] dst) {
        float[] heap = WeightVectors.heapFloats(w);
        if (heap != null) {
            packF32(heap, WeightVectors.heapIndex(w), (int) k, c0, full, p0, kb, dst);
            return;
        }
        for (int p = 0; p < kb; p++) {
            long src = (p0 + p) * k + c0;
            for (int q = 0; q < full; q++) {
                int d = q * kb * NR + p * NR;
                WeightVectors.f32(w, src + (long) q * NR).intoArray(dst, d);
                WeightVectors.f32(w, src + (long) q * NR + L).intoArray(dst, d + L);
            }
        }
    }

    /** {@link #packF32} for a W on the heap, read through its array ({@link WeightVectors#heapFloats}). */
    private static void packF32(float[] w, int wOff, int k, int c0, int full, int p0, int kb, float[] dst) {
        for (int p = 0; p < kb; p++) {
            int src = wOff + (p0 + p) * k + c0;
            for (int q = 0; q < full; q++) {
                int d = q * kb * NR + p * NR;
                FloatVector.fromArray(F, w, src + q * NR).intoArray(dst, d);
                FloatVector.fromArray(F, w, src + q * NR + L).intoArray(dst, d + L);
            }
        }
    }

    private static void packBf16(MemorySegment w, long k, int c0, int full, int p0, int kb, float[] dst) {
        for (int p = 0; p < kb; p++) {
            long src = (p0 + p) * k + c0;
            for (int q = 0; q < full; q++) {
                int d = q * kb * NR + p * NR;
                WeightVectors.bf16(w, src + (long) q * NR).intoArray(dst, d);
                WeightVectors.bf16(w, src + (long) q * NR + L).intoArray(dst, d + L);
            }
        }
    }

    private static void packF16(MemorySegment w, long k, int c0, int full, int p0, int kb, float[] dst) {
        for (int p = 0; p < kb; p++) {
            long src = (p0 + p) * k + c0;
            for (int q = 0; q < full; q++) {
                int d = q * kb * NR + p * NR;
                WeightVectors.f16(w, src + (long) q * NR).intoArray(dst, d);
                WeightVectors.f16(w, src + (long) q * NR + L).intoArray(dst, d + L);
            }
        }
    }
}
