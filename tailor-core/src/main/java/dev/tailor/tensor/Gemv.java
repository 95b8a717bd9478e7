package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * {@code Y = X·Wᵀ} for a few rows of X (decode): every output is a dot product of an X row with a W row.
 *
 * <p>Memory-bound: W is streamed straight from its segment, widened in-register, one row at a time so the
 * reads form a single sequential stream (measured faster than interleaving four rows once W exceeds the
 * caches, especially for short rows), with several independent accumulators along k. Tasks are chunks of W
 * rows small enough to stay in L2 while every X row passes over them. The last {@code k mod L} columns use a
 * scalar tail.
 *
 * <p>Several rows of X go through {@link GemvTiles}' register tiles, which load each vector of W once for several
 * rows (and so read W from L2 once per tile of rows instead of once per row) while every output keeps exactly the
 * operations of the one-row dot product below: an output has the bits it has when its row is multiplied alone, so
 * the products are batch invariant ({@link MatMul#batchInvariant}).
 */
final class Gemv {
    /** Target bytes of W per task, so a chunk is reused from L2 across X rows. */
    private static final int CHUNK_BYTES = 256 * 1024;

    private Gemv() {
    }

    /** {@code y[yOff + i·n + j] = Σ_c x[xOff + i·k + c] · w[j, c]} for {@code i < m}. */
    static void run(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff) {
        int n = w.rows();
        long rowBytes = (long) w.cols() * w.dtype().byteSize();
        int byCache = (int) Math.max(1, CHUNK_BYTES / Math.max(1, rowBytes));
        int byThreads = PackedGemm.ceilDiv(n, 8 * Parallel.threads());
        int chunk = Math.max(1, Math.min(byCache, byThreads));
        int tasks = PackedGemm.ceilDiv(n, chunk);
        Parallel.parallelFor(tasks, t -> rows(x, xOff, m, w, y, yOff, t * chunk, Math.min(n, (t + 1) * chunk)));
    }

    /** Rows {@code [j0, j1)} of W against every row of X. */
    static void rows(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff, int j0, int j1) {
        int n = w.rows();
        int k = w.cols();
        MemorySegment seg = w.data();
        if (m > 1) {
            // rows in tiles (GemvTiles); a tile short of rows repeats the last one (computed and stored twice)
            int i = 0;
            if (w.dtype() != DType.F32) {
                for (; m - i >= 3; i += 4) {
                    int x0 = xOff + i * k;
                    int y0 = yOff + i * n;
                    int x3 = xOff + Math.min(i + 3, m - 1) * k;
                    int y3 = yOff + Math.min(i + 3, m - 1) * n;
                    if (w.dtype() == DType.BF16) {
                        GemvTiles.tile4x1Bf16(x, x0, x0 + k, x0 + 2 * k, x3, seg, k, j0, j1, y, y0, y0 + n, y0 + 2 * n,
                                y3);
                    } else {
                        GemvTiles.tile4x1F16(x, x0, x0 + k, x0 + 2 * k, x3, seg, k, j0, j1, y, y0, y0 + n, y0 + 2 * n,
                                y3);
                    }
                }
            }
            for (; i < m; i += 2) {
                int i1 = Math.min(i + 1, m - 1);
                int x0 = xOff + i * k;
                int x1 = xOff + i1 * k;
                int y0 = yOff + i * n;
                int y1 = yOff + i1 * n;
                switch (w.dtype()) {
                    case F32 -> GemvTiles.tile2x2F32(x, x0, x1, seg, k, j0, j1, y, y0, y1);
                    case BF16 -> GemvTiles.tile2x1Bf16(x, x0, x1, seg, k, j0, j1, y, y0, y1);
                    case F16 -> GemvTiles.tile2x1F16(x, x0, x1, seg, k, j0, j1, y, y0, y1);
                    default -> throw new IllegalArgumentException("not a float weight type: " + w.dtype());
                }
            }
        } else {
            // one loop per type (rather than a switch inside the loop) so each compiles to straight vector code
            switch (w.dtype()) {
                case F32 -> {
                    for (int j = j0; j < j1; j++) {
                        y[yOff + j] = dotF32(x, xOff, seg, (long) j * k, k);
                    }
                }
                case BF16 -> {
                    for (int j = j0; j < j1; j++) {
                        y[yOff + j] = dotBf16(x, xOff, seg, (long) j * k, k);
                    }
                }
                case F16 -> {
                    for (int j = j0; j < j1; j++) {
                        y[yOff + j] = dotF16(x, xOff, seg, (long) j * k, k);
                    }
                }
                default -> throw new IllegalArgumentException("not a float weight type: " + w.dtype());
            }
        }
    }

    private static float dotF32(float[] x, int xo, MemorySegment w, long r, int k) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int c = 0;
        for (; c + 4 * L <= k; c += 4 * L) {
            a0 = WeightVectors.f32(w, r + c).fma(FloatVector.fromArray(F, x, xo + c), a0);
            a1 = WeightVectors.f32(w, r + c + L).fma(FloatVector.fromArray(F, x, xo + c + L), a1);
            a2 = WeightVectors.f32(w, r + c + 2 * L).fma(FloatVector.fromArray(F, x, xo + c + 2 * L), a2);
            a3 = WeightVectors.f32(w, r + c + 3 * L).fma(FloatVector.fromArray(F, x, xo + c + 3 * L), a3);
        }
        for (; c + L <= k; c += L) {
            a0 = WeightVectors.f32(w, r + c).fma(FloatVector.fromArray(F, x, xo + c), a0);
        }
        return dotScalar(x, xo, w, DType.F32, r, c, k, VectorMath.sum(a0.add(a1).add(a2.add(a3))));
    }

    private static float dotBf16(float[] x, int xo, MemorySegment w, long r, int k) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int c = 0;
        for (; c + 4 * L <= k; c += 4 * L) {
            a0 = WeightVectors.bf16(w, r + c).fma(FloatVector.fromArray(F, x, xo + c), a0);
            a1 = WeightVectors.bf16(w, r + c + L).fma(FloatVector.fromArray(F, x, xo + c + L), a1);
            a2 = WeightVectors.bf16(w, r + c + 2 * L).fma(FloatVector.fromArray(F, x, xo + c + 2 * L), a2);
            a3 = WeightVectors.bf16(w, r + c + 3 * L).fma(FloatVector.fromArray(F, x, xo + c + 3 * L), a3);
        }
        for (; c + L <= k; c += L) {
            a0 = WeightVectors.bf16(w, r + c).fma(FloatVector.fromArray(F, x, xo + c), a0);
        }
        return dotScalar(x, xo, w, DType.BF16, r, c, k, VectorMath.sum(a0.add(a1).add(a2.add(a3))));
    }

    /** Two accumulators, not four: four F16 widenings per step exceed C2's inlining node budget. */
    private static float dotF16(float[] x, int xo, MemorySegment w, long r, int k) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        int c = 0;
        for (; c + 2 * L <= k; c += 2 * L) {
            a0 = WeightVectors.f16(w, r + c).fma(FloatVector.fromArray(F, x, xo + c), a0);
            a1 = WeightVectors.f16(w, r + c + L).fma(FloatVector.fromArray(F, x, xo + c + L), a1);
        }
        for (; c + L <= k; c += L) {
            a0 = WeightVectors.f16(w, r + c).fma(FloatVector.fromArray(F, x, xo + c), a0);
        }
        return dotScalar(x, xo, w, DType.F16, r, c, k, VectorMath.sum(a0.add(a1)));
    }

    /** {@code sum + Σ_{c ∈ [from, to)} x[xo + c] · w[row + c]}, scalar. */
    private static float dotScalar(float[] x, int xo, MemorySegment w, DType dtype, long row, int from, int to,
                                   float sum) {
        for (int c = from; c < to; c++) {
            sum += x[xo + c] * Numerics.load(w, dtype, row + c);
        }
        return sum;
    }
}
