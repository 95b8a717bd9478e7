package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code Y = X·Wᵀ} for a few rows of X (decode): every output is a dot product of an X row with a W row.
 *
 * <p>Memory-bound: W is streamed once per X row straight from its segment, widened in-register, four W rows
 * at a time (four independent accumulators share each load of X; two for F16, whose widening is longer). Tasks are chunks of W rows small enough
 * to stay in L2 while every X row passes over them. The last {@code k mod L} columns use a scalar tail.
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
        int byCache = (int) Math.max(4, CHUNK_BYTES / Math.max(1, rowBytes));
        int byThreads = PackedGemm.ceilDiv(n, 8 * Parallel.threads());
        int chunk = Math.max(4, (Math.min(byCache, byThreads) + 3) & ~3);
        int tasks = PackedGemm.ceilDiv(n, chunk);
        Parallel.parallelFor(tasks, t -> rows(x, xOff, m, w, y, yOff, t * chunk, Math.min(n, (t + 1) * chunk)));
    }

    /** Rows {@code [j0, j1)} of W against every row of X. */
    static void rows(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff, int j0, int j1) {
        int n = w.rows();
        int k = w.cols();
        for (int i = 0; i < m; i++) {
            int xo = xOff + i * k;
            int yo = yOff + i * n;
            int j = switch (w.dtype()) {
                case F32 -> rowsF32(x, xo, w.data(), k, y, yo, j0, j1);
                case BF16 -> rowsBf16(x, xo, w.data(), k, y, yo, j0, j1);
                case F16 -> rowsF16(x, xo, w.data(), k, y, yo, j0, j1);
                default -> throw new IllegalArgumentException("not a float weight type: " + w.dtype());
            };
            for (; j < j1; j++) {
                y[yo + j] = dotScalar(x, xo, w.data(), w.dtype(), (long) j * k, 0, k, 0f);
            }
        }
    }

    // One loop per type (rather than a switch inside the loop) so each compiles to straight vector code.

    /** Rows {@code [j0, j1)} in groups of four; returns the first row not done. */
    private static int rowsF32(float[] x, int xo, MemorySegment w, int k, float[] y, int yo, int j0, int j1) {
        int j = j0;
        for (; j + 4 <= j1; j += 4) {
            dot4F32(x, xo, w, (long) j * k, k, y, yo + j);
        }
        return j;
    }

    /** Rows {@code [j0, j1)} in groups of four; returns the first row not done. */
    private static int rowsBf16(float[] x, int xo, MemorySegment w, int k, float[] y, int yo, int j0, int j1) {
        int j = j0;
        for (; j + 4 <= j1; j += 4) {
            dot4Bf16(x, xo, w, (long) j * k, k, y, yo + j);
        }
        return j;
    }

    /** Rows {@code [j0, j1)} in pairs; returns the first row not done. */
    private static int rowsF16(float[] x, int xo, MemorySegment w, int k, float[] y, int yo, int j0, int j1) {
        int j = j0;
        for (; j + 2 <= j1; j += 2) {
            dot2F16(x, xo, w, (long) j * k, k, y, yo + j);
        }
        return j;
    }

    private static void dot4F32(float[] x, int xo, MemorySegment w, long r0, int k, float[] y, int yo) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        long r1 = r0 + k;
        long r2 = r1 + k;
        long r3 = r2 + k;
        int bound = F.loopBound(k);
        for (int c = 0; c < bound; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            a0 = WeightVectors.f32(w, r0 + c).fma(xv, a0);
            a1 = WeightVectors.f32(w, r1 + c).fma(xv, a1);
            a2 = WeightVectors.f32(w, r2 + c).fma(xv, a2);
            a3 = WeightVectors.f32(w, r3 + c).fma(xv, a3);
        }
        finish(x, xo, w, DType.F32, r0, bound, k, a0, a1, a2, a3, y, yo);
    }

    private static void dot4Bf16(float[] x, int xo, MemorySegment w, long r0, int k, float[] y, int yo) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        long r1 = r0 + k;
        long r2 = r1 + k;
        long r3 = r2 + k;
        int bound = F.loopBound(k);
        for (int c = 0; c < bound; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            a0 = WeightVectors.bf16(w, r0 + c).fma(xv, a0);
            a1 = WeightVectors.bf16(w, r1 + c).fma(xv, a1);
            a2 = WeightVectors.bf16(w, r2 + c).fma(xv, a2);
            a3 = WeightVectors.bf16(w, r3 + c).fma(xv, a3);
        }
        finish(x, xo, w, DType.BF16, r0, bound, k, a0, a1, a2, a3, y, yo);
    }

    /** Two rows, not four: four F16 widenings per step exceed C2's inlining node budget. */
    private static void dot2F16(float[] x, int xo, MemorySegment w, long r0, int k, float[] y, int yo) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        long r1 = r0 + k;
        int bound = F.loopBound(k);
        for (int c = 0; c < bound; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            a0 = WeightVectors.f16(w, r0 + c).fma(xv, a0);
            a1 = WeightVectors.f16(w, r1 + c).fma(xv, a1);
        }
        y[yo] = dotScalar(x, xo, w, DType.F16, r0, bound, k, a0.reduceLanes(VectorOperators.ADD));
        y[yo + 1] = dotScalar(x, xo, w, DType.F16, r1, bound, k, a1.reduceLanes(VectorOperators.ADD));
    }

    /** Reduces the four accumulators, adds the scalar tail {@code [bound, k)} and stores four outputs. */
    private static void finish(float[] x, int xo, MemorySegment w, DType dtype, long r0, int bound, int k,
                               FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3,
                               float[] y, int yo) {
        y[yo] = dotScalar(x, xo, w, dtype, r0, bound, k, a0.reduceLanes(VectorOperators.ADD));
        y[yo + 1] = dotScalar(x, xo, w, dtype, r0 + k, bound, k, a1.reduceLanes(VectorOperators.ADD));
        y[yo + 2] = dotScalar(x, xo, w, dtype, r0 + 2L * k, bound, k, a2.reduceLanes(VectorOperators.ADD));
        y[yo + 3] = dotScalar(x, xo, w, dtype, r0 + 3L * k, bound, k, a3.reduceLanes(VectorOperators.ADD));
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
