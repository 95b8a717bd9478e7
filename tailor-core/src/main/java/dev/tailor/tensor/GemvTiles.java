package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * {@link Gemv}'s kernels for several rows of X: register tiles in which each loaded (and widened) vector of W, and
 * of X, serves several outputs, where the one-row dot products load both for every output.
 *
 * <p>Every output keeps exactly the operations of Gemv's one-row dot product for its weight type: the same
 * accumulators ({@code a<q>}) fed the same fused multiply-adds over the same columns (groups of 4 vectors, 2 for
 * F16, then single vectors into the first), the same combination of the accumulators, the lane sum by the steps of
 * {@link VectorMath#sum} and the {@code k mod L} tail added one product at a time. So an output has the bits it has
 * when its row is multiplied alone, whatever tile it lands in: the products are batch invariant
 * ({@link MatMul#batchInvariant}). The lane sums and tails are written out in each kernel, side by side for its
 * outputs, rather than called: a call per output would pass C2's inlining budget in kernels this size and box its
 * vector.
 *
 * <p>Tile shapes (X rows × W rows) are chosen by loads: F32 takes 2×2 (one load per FMA; loads, not FMAs, bound
 * these products). BF16 and F16 take 4×1 and, for the rows left over, 2×1: each W vector is widened once for several
 * X rows, and a second W row's widenings in the same loop would pass C2's inlining budget and box the vectors.
 * The loops run to precomputed bounds (not {@code c + 4L <= k}), so C2 removes their range checks.
 */
final class GemvTiles {
    private GemvTiles() {
    }

    /**
     * Gemv's {@code dotF32} for X rows {@code x0, x1} (offsets, possibly equal) against W rows {@code [j0, j1)} two at
     * a time (the last one twice when they are odd): each X and W vector is loaded once for the tile's four outputs.
     * Accumulator {@code a<r><s><q>} is dotF32's {@code a<q>} for X row r and W row s.
     */
    static void tile2x2F32(float[] x, int x0, int x1, MemorySegment w, int k, int j0, int j1, float[] y, int y0,
                           int y1) {
        int groups = k / (4 * L) * (4 * L);
        int vectors = k / L * L;
        for (int j = j0; j < j1; j += 2) {
            int jb = Math.min(j + 1, j1 - 1);
            long ra = (long) j * k;
            long rb = (long) jb * k;
            FloatVector a000 = FloatVector.zero(F);
            FloatVector a001 = a000;
            FloatVector a002 = a000;
            FloatVector a003 = a000;
            FloatVector a010 = a000;
            FloatVector a011 = a000;
            FloatVector a012 = a000;
            FloatVector a013 = a000;
            FloatVector a100 = a000;
            FloatVector a101 = a000;
            FloatVector a102 = a000;
            FloatVector a103 = a000;
            FloatVector a110 = a000;
            FloatVector a111 = a000;
            FloatVector a112 = a000;
            FloatVector a113 = a000;
            int c = 0;
            for (; c < groups; c += 4 * L) {
                FloatVector wa = WeightVectors.f32(w, ra + c);
                FloatVector wb = WeightVectors.f32(w, rb + c);
                FloatVector xa = FloatVector.fromArray(F, x, x0 + c);
                FloatVector xb = FloatVector.fromArray(F, x, x1 + c);
                a000 = wa.fma(xa, a000);
                a010 = wb.fma(xa, a010);
                a100 = wa.fma(xb, a100);
                a110 = wb.fma(xb, a110);
                wa = WeightVectors.f32(w, ra + c + L);
                wb = WeightVectors.f32(w, rb + c + L);
                xa = FloatVector.fromArray(F, x, x0 + c + L);
                xb = FloatVector.fromArray(F, x, x1 + c + L);
                a001 = wa.fma(xa, a001);
                a011 = wb.fma(xa, a011);
                a101 = wa.fma(xb, a101);
                a111 = wb.fma(xb, a111);
                wa = WeightVectors.f32(w, ra + c + 2 * L);
                wb = WeightVectors.f32(w, rb + c + 2 * L);
                xa = FloatVector.fromArray(F, x, x0 + c + 2 * L);
                xb = FloatVector.fromArray(F, x, x1 + c + 2 * L);
                a002 = wa.fma(xa, a002);
                a012 = wb.fma(xa, a012);
                a102 = wa.fma(xb, a102);
                a112 = wb.fma(xb, a112);
                wa = WeightVectors.f32(w, ra + c + 3 * L);
                wb = WeightVectors.f32(w, rb + c + 3 * L);
                xa = FloatVector.fromArray(F, x, x0 + c + 3 * L);
                xb = FloatVector.fromArray(F, x, x1 + c + 3 * L);
                a003 = wa.fma(xa, a003);
                a013 = wb.fma(xa, a013);
                a103 = wa.fma(xb, a103);
                a113 = wb.fma(xb, a113);
            }
            for (; c < vectors; c += L) {
                FloatVector wa = WeightVectors.f32(w, ra + c);
                FloatVector wb = WeightVectors.f32(w, rb + c);
                FloatVector xa = FloatVector.fromArray(F, x, x0 + c);
                FloatVector xb = FloatVector.fromArray(F, x, x1 + c);
                a000 = wa.fma(xa, a000);
                a010 = wb.fma(xa, a010);
                a100 = wa.fma(xb, a100);
                a110 = wb.fma(xb, a110);
            }
            FloatVector s00 = a000.add(a001).add(a002.add(a003));
            FloatVector s01 = a010.add(a011).add(a012.add(a013));
            FloatVector s10 = a100.add(a101).add(a102.add(a103));
            FloatVector s11 = a110.add(a111).add(a112.add(a113));
            for (int t = VectorMath.ROTATE.length - 1; t >= 0; t--) {
                s00 = s00.add(s00.rearrange(VectorMath.ROTATE[t]));
                s01 = s01.add(s01.rearrange(VectorMath.ROTATE[t]));
                s10 = s10.add(s10.rearrange(VectorMath.ROTATE[t]));
                s11 = s11.add(s11.rearrange(VectorMath.ROTATE[t]));
            }
            float t00 = s00.lane(0);
            float t01 = s01.lane(0);
            float t10 = s10.lane(0);
            float t11 = s11.lane(0);
            for (; c < k; c++) {
                float wa = Numerics.load(w, DType.F32, ra + c);
                float wb = Numerics.load(w, DType.F32, rb + c);
                t00 += x[x0 + c] * wa;
                t01 += x[x0 + c] * wb;
                t10 += x[x1 + c] * wa;
                t11 += x[x1 + c] * wb;
            }
            y[y0 + j] = t00;
            y[y0 + jb] = t01;
            y[y1 + j] = t10;
            y[y1 + jb] = t11;
        }
    }

    /**
     * Gemv's {@code dotBf16} for X rows {@code x0..x3} (offsets, possibly repeated) against W rows {@code [j0, j1)}:
     * each W vector is loaded and widened once for the four rows. Accumulator {@code a<r><q>} is dotBf16's
     * {@code a<q>} for X row r.
     */
    static void tile4x1Bf16(float[] x, int x0, int x1, int x2, int x3, MemorySegment w, int k, int j0, int j1,
                            float[] y, int y0, int y1, int y2, int y3) {
        int groups = k / (4 * L) * (4 * L);
        int vectors = k / L * L;
        for (int j = j0; j < j1; j++) {
            long r = (long) j * k;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00;
            FloatVector a02 = a00;
            FloatVector a03 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a12 = a00;
            FloatVector a13 = a00;
            FloatVector a20 = a00;
            FloatVector a21 = a00;
            FloatVector a22 = a00;
            FloatVector a23 = a00;
            FloatVector a30 = a00;
            FloatVector a31 = a00;
            FloatVector a32 = a00;
            FloatVector a33 = a00;
            int c = 0;
            for (; c < groups; c += 4 * L) {
                FloatVector v = WeightVectors.bf16(w, r + c);
                a00 = v.fma(FloatVector.fromArray(F, x, x0 + c), a00);
                a10 = v.fma(FloatVector.fromArray(F, x, x1 + c), a10);
                a20 = v.fma(FloatVector.fromArray(F, x, x2 + c), a20);
                a30 = v.fma(FloatVector.fromArray(F, x, x3 + c), a30);
                v = WeightVectors.bf16(w, r + c + L);
                a01 = v.fma(FloatVector.fromArray(F, x, x0 + c + L), a01);
                a11 = v.fma(FloatVector.fromArray(F, x, x1 + c + L), a11);
                a21 = v.fma(FloatVector.fromArray(F, x, x2 + c + L), a21);
                a31 = v.fma(FloatVector.fromArray(F, x, x3 + c + L), a31);
                v = WeightVectors.bf16(w, r + c + 2 * L);
                a02 = v.fma(FloatVector.fromArray(F, x, x0 + c + 2 * L), a02);
                a12 = v.fma(FloatVector.fromArray(F, x, x1 + c + 2 * L), a12);
                a22 = v.fma(FloatVector.fromArray(F, x, x2 + c + 2 * L), a22);
                a32 = v.fma(FloatVector.fromArray(F, x, x3 + c + 2 * L), a32);
                v = WeightVectors.bf16(w, r + c + 3 * L);
                a03 = v.fma(FloatVector.fromArray(F, x, x0 + c + 3 * L), a03);
                a13 = v.fma(FloatVector.fromArray(F, x, x1 + c + 3 * L), a13);
                a23 = v.fma(FloatVector.fromArray(F, x, x2 + c + 3 * L), a23);
                a33 = v.fma(FloatVector.fromArray(F, x, x3 + c + 3 * L), a33);
            }
            for (; c < vectors; c += L) {
                FloatVector v = WeightVectors.bf16(w, r + c);
                a00 = v.fma(FloatVector.fromArray(F, x, x0 + c), a00);
                a10 = v.fma(FloatVector.fromArray(F, x, x1 + c), a10);
                a20 = v.fma(FloatVector.fromArray(F, x, x2 + c), a20);
                a30 = v.fma(FloatVector.fromArray(F, x, x3 + c), a30);
            }
            FloatVector s0 = a00.add(a01).add(a02.add(a03));
            FloatVector s1 = a10.add(a11).add(a12.add(a13));
            FloatVector s2 = a20.add(a21).add(a22.add(a23));
            FloatVector s3 = a30.add(a31).add(a32.add(a33));
            for (int t = VectorMath.ROTATE.length - 1; t >= 0; t--) {
                s0 = s0.add(s0.rearrange(VectorMath.ROTATE[t]));
                s1 = s1.add(s1.rearrange(VectorMath.ROTATE[t]));
                s2 = s2.add(s2.rearrange(VectorMath.ROTATE[t]));
                s3 = s3.add(s3.rearrange(VectorMath.ROTATE[t]));
            }
            float t0 = s0.lane(0);
            float t1 = s1.lane(0);
            float t2 = s2.lane(0);
            float t3 = s3.lane(0);
            for (; c < k; c++) {
                float wc = Numerics.load(w, DType.BF16, r + c);
                t0 += x[x0 + c] * wc;
                t1 += x[x1 + c] * wc;
                t2 += x[x2 + c] * wc;
                t3 += x[x3 + c] * wc;
            }
            y[y0 + j] = t0;
            y[y1 + j] = t1;
            y[y2 + j] = t2;
            y[y3 + j] = t3;
        }
    }

    /** {@link #tile4x1Bf16} for F16 weights: Gemv's {@code dotF16}, two accumulators per output. */
    static void tile4x1F16(float[] x, int x0, int x1, int x2, int x3, MemorySegment w, int k, int j0, int j1,
                           float[] y, int y0, int y1, int y2, int y3) {
        int groups = k / (2 * L) * (2 * L);
        int vectors = k / L * L;
        for (int j = j0; j < j1; j++) {
            long r = (long) j * k;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a20 = a00;
            FloatVector a21 = a00;
            FloatVector a30 = a00;
            FloatVector a31 = a00;
            int c = 0;
            for (; c < groups; c += 2 * L) {
                FloatVector v = WeightVectors.f16(w, r + c);
                a00 = v.fma(FloatVector.fromArray(F, x, x0 + c), a00);
                a10 = v.fma(FloatVector.fromArray(F, x, x1 + c), a10);
                a20 = v.fma(FloatVector.fromArray(F, x, x2 + c), a20);
                a30 = v.fma(FloatVector.fromArray(F, x, x3 + c), a30);
                v = WeightVectors.f16(w, r + c + L);
                a01 = v.fma(FloatVector.fromArray(F, x, x0 + c + L), a01);
                a11 = v.fma(FloatVector.fromArray(F, x, x1 + c + L), a11);
                a21 = v.fma(FloatVector.fromArray(F, x, x2 + c + L), a21);
                a31 = v.fma(FloatVector.fromArray(F, x, x3 + c + L), a31);
            }
            for (; c < vectors; c += L) {
                FloatVector v = WeightVectors.f16(w, r + c);
                a00 = v.fma(FloatVector.fromArray(F, x, x0 + c), a00);
                a10 = v.fma(FloatVector.fromArray(F, x, x1 + c), a10);
                a20 = v.fma(FloatVector.fromArray(F, x, x2 + c), a20);
                a30 = v.fma(FloatVector.fromArray(F, x, x3 + c), a30);
            }
            FloatVector s0 = a00.add(a01);
            FloatVector s1 = a10.add(a11);
            FloatVector s2 = a20.add(a21);
            FloatVector s3 = a30.add(a31);
            for (int t = VectorMath.ROTATE.length - 1; t >= 0; t--) {
                s0 = s0.add(s0.rearrange(VectorMath.ROTATE[t]));
                s1 = s1.add(s1.rearrange(VectorMath.ROTATE[t]));
                s2 = s2.add(s2.rearrange(VectorMath.ROTATE[t]));
                s3 = s3.add(s3.rearrange(VectorMath.ROTATE[t]));
            }
            float t0 = s0.lane(0);
            float t1 = s1.lane(0);
            float t2 = s2.lane(0);
            float t3 = s3.lane(0);
            for (; c < k; c++) {
                float wc = Numerics.load(w, DType.F16, r + c);
                t0 += x[x0 + c] * wc;
                t1 += x[x1 + c] * wc;
                t2 += x[x2 + c] * wc;
                t3 += x[x3 + c] * wc;
            }
            y[y0 + j] = t0;
            y[y1 + j] = t1;
            y[y2 + j] = t2;
            y[y3 + j] = t3;
        }
    }

    /** {@link #tile4x1Bf16} for two X rows {@code x0, x1} (possibly equal): the rows left over from groups of 4. */
    static void tile2x1Bf16(float[] x, int x0, int x1, MemorySegment w, int k, int j0, int j1, float[] y, int y0,
                            int y1) {
        int groups = k / (4 * L) * (4 * L);
        int vectors = k / L * L;
        for (int j = j0; j < j1; j++) {
            long r = (long) j * k;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00;
            FloatVector a02 = a00;
            FloatVector a03 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a12 = a00;
            FloatVector a13 = a00;
            int c = 0;
            for (; c < groups; c += 4 * L) {
                FloatVector v = WeightVectors.bf16(w, r + c);
                a00 = v.fma(FloatVector.fromArray(F, x, x0 + c), a00);
                a10 = v.fma(FloatVector.fromArray(F, x, x1 + c), a10);
                v = WeightVectors.bf16(w, r + c + L);
                a01 = v.fma(FloatVector.fromArray(F, x, x0 + c + L), a01);
                a11 = v.fma(FloatVector.fromArray(F, x, x1 + c + L), a11);
                v = WeightVectors.bf16(w, r + c + 2 * L);
                a02 = v.fma(FloatVector.fromArray(F, x, x0 + c + 2 * L), a02);
                a12 = v.fma(FloatVector.fromArray(F, x, x1 + c + 2 * L), a12);
                v = WeightVectors.bf16(w, r + c + 3 * L);
                a03 = v.fma(FloatVector.fromArray(F, x, x0 + c + 3 * L), a03);
                a13 = v.fma(FloatVector.fromArray(F, x, x1 + c + 3 * L), a13);
            }
            for (; c < vectors; c += L) {
                FloatVector v = WeightVectors.bf16(w, r + c);
                a00 = v.fma(FloatVector.fromArray(F, x, x0 + c), a00);
                a10 = v.fma(FloatVector.fromArray(F, x, x1 + c), a10);
            }
            FloatVector s0 = a00.add(a01).add(a02.add(a03));
            FloatVector s1 = a10.add(a11).add(a12.add(a13));
            for (int t = VectorMath.ROTATE.length - 1; t >= 0; t--) {
                s0 = s0.add(s0.rearrange(VectorMath.ROTATE[t]));
                s1 = s1.add(s1.rearrange(VectorMath.ROTATE[t]));
            }
            float t0 = s0.lane(0);
            float t1 = s1.lane(0);
            for (; c < k; c++) {
                float wc = Numerics.load(w, DType.BF16, r + c);
                t0 += x[x0 + c] * wc;
                t1 += x[x1 + c] * wc;
            }
            y[y0 + j] = t0;
            y[y1 + j] = t1;
        }
    }

    /** {@link #tile4x1F16} for two X rows {@code x0, x1} (possibly equal). */
    static void tile2x1F16(float[] x, int x0, int x1, MemorySegment w, int k, int j0, int j1, float[] y, int y0,
                           int y1) {
        int groups = k / (2 * L) * (2 * L);
        int vectors = k / L * L;
        for (int j = j0; j < j1; j++) {
            long r = (long) j * k;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            int c = 0;
            for (; c < groups; c += 2 * L) {
                FloatVector v = WeightVectors.f16(w, r + c);
                a00 = v.fma(FloatVector.fromArray(F, x, x0 + c), a00);
                a10 = v.fma(FloatVector.fromArray(F, x, x1 + c), a10);
                v = WeightVectors.f16(w, r + c + L);
                a01 = v.fma(FloatVector.fromArray(F, x, x0 + c + L), a01);
                a11 = v.fma(FloatVector.fromArray(F, x, x1 + c + L), a11);
            }
            for (; c < vectors; c += L) {
                FloatVector v = WeightVectors.f16(w, r + c);
                a00 = v.fma(FloatVector.fromArray(F, x, x0 + c), a00);
                a10 = v.fma(FloatVector.fromArray(F, x, x1 + c), a10);
            }
            FloatVector s0 = a00.add(a01);
            FloatVector s1 = a10.add(a11);
            for (int t = VectorMath.ROTATE.length - 1; t >= 0; t--) {
                s0 = s0.add(s0.rearrange(VectorMath.ROTATE[t]));
                s1 = s1.add(s1.rearrange(VectorMath.ROTATE[t]));
            }
            float t0 = s0.lane(0);
            float t1 = s1.lane(0);
            for (; c < k; c++) {
                float wc = Numerics.load(w, DType.F16, r + c);
                t0 += x[x0 + c] * wc;
                t1 += x[x1 + c] * wc;
            }
            y[y0 + j] = t0;
            y[y1 + j] = t1;
        }
    }
}
