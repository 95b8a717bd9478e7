package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * {@link Gemv}'s kernels for several rows of X: register tiles of X rows × W rows in which each loaded (and widened)
 * vector of W, and of X, serves several outputs.
 *
 * <p>Every output is computed in {@link Gemv}'s order, the one its row gets when multiplied alone: one accumulator
 * ({@code a<r><s>}) fed the products of the whole vectors by fused multiply-adds, its lanes summed by the steps of
 * {@link VectorMath#sum} and the {@code k mod L} tail added one product at a time. So an output has the same bits
 * whatever tile it lands in, and the products are batch invariant ({@link MatMul#batchInvariant}). The lane sums and
 * tails are written out in each kernel, side by side for its outputs, rather than called: a call per output would
 * pass C2's inlining budget in kernels this size and box its vector.
 *
 * <p>Tile shapes are chosen by loads, which bound these products more than the FMAs do. F32 and BF16 take 4×4: per
 * step, 4 W and 4 X vectors loaded for 16 fused multiply-adds into 16 accumulators (with the 4 W and 1 X vectors
 * live, 21 of AVX-512's 32 registers); taller tiles (8×2, 16×1) load W less often but measured no faster while W's
 * chunk stays in L2. F16 takes 4×2: four F16 widenings in one loop pass C2's inlining budget, and a 4×4 F16 tile,
 * its vectors boxed, measured at less than half the speed. The rows of X left over from groups of four take the
 * 2-row tiles. The loops run to a precomputed bound (not {@code c + L <= k}), so C2 removes their range checks.
 */
final class GemvTiles {
    private GemvTiles() {
    }

    /**
     * X rows {@code x0..x3} (offsets, possibly repeated) against W rows {@code [j0, j1)} four at a time, a quarter of
     * the range apart as {@link Gemv}'s rows are: each X and W vector is loaded once for the tile's 16 outputs.
     * Accumulator {@code a<r><s>} is the output of X row r and W row s.
     */
    static void tile4x4F32(float[] x, int x0, int x1, int x2, int x3, MemorySegment w, int k, int j0, int j1, float[] y,
                           int y0, int y1, int y2, int y3) {
        int vectors = k / L * L;
        int sweep = RowSweeps.quarter(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            int jc = Math.min(j + 2 * sweep, j1 - 1);
            int jd = Math.min(j + 3 * sweep, j1 - 1);
            long ra = (long) j * k;
            long rb = (long) jb * k;
            long rc = (long) jc * k;
            long rd = (long) jd * k;
            FloatVector a0a = FloatVector.zero(F);
            FloatVector a0b = a0a;
            FloatVector a0c = a0a;
            FloatVector a0d = a0a;
            FloatVector a1a = a0a;
            FloatVector a1b = a0a;
            FloatVector a1c = a0a;
            FloatVector a1d = a0a;
            FloatVector a2a = a0a;
            FloatVector a2b = a0a;
            FloatVector a2c = a0a;
            FloatVector a2d = a0a;
            FloatVector a3a = a0a;
            FloatVector a3b = a0a;
            FloatVector a3c = a0a;
            FloatVector a3d = a0a;
            int c = 0;
            for (; c < vectors; c += L) {
                FloatVector wa = WeightVectors.f32(w, ra + c);
                FloatVector wb = WeightVectors.f32(w, rb + c);
                FloatVector wc = WeightVectors.f32(w, rc + c);
                FloatVector wd = WeightVectors.f32(w, rd + c);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
                a0a = wa.fma(xv, a0a);
                a0b = wb.fma(xv, a0b);
                a0c = wc.fma(xv, a0c);
                a0d = wd.fma(xv, a0d);
                xv = FloatVector.fromArray(F, x, x1 + c);
                a1a = wa.fma(xv, a1a);
                a1b = wb.fma(xv, a1b);
                a1c = wc.fma(xv, a1c);
                a1d = wd.fma(xv, a1d);
                xv = FloatVector.fromArray(F, x, x2 + c);
                a2a = wa.fma(xv, a2a);
                a2b = wb.fma(xv, a2b);
                a2c = wc.fma(xv, a2c);
                a2d = wd.fma(xv, a2d);
                xv = FloatVector.fromArray(F, x, x3 + c);
                a3a = wa.fma(xv, a3a);
                a3b = wb.fma(xv, a3b);
                a3c = wc.fma(xv, a3c);
                a3d = wd.fma(xv, a3d);
            }
            if (L > 8) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_8));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_8));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_8));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_8));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_8));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_8));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_8));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_8));
                a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_8));
                a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_8));
                a2c = a2c.add(a2c.rearrange(VectorMath.ROTATE_8));
                a2d = a2d.add(a2d.rearrange(VectorMath.ROTATE_8));
                a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_8));
                a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_8));
                a3c = a3c.add(a3c.rearrange(VectorMath.ROTATE_8));
                a3d = a3d.add(a3d.rearrange(VectorMath.ROTATE_8));
            }
            if (L > 4) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_4));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_4));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_4));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_4));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_4));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_4));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_4));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_4));
                a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_4));
                a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_4));
                a2c = a2c.add(a2c.rearrange(VectorMath.ROTATE_4));
                a2d = a2d.add(a2d.rearrange(VectorMath.ROTATE_4));
                a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_4));
                a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_4));
                a3c = a3c.add(a3c.rearrange(VectorMath.ROTATE_4));
                a3d = a3d.add(a3d.rearrange(VectorMath.ROTATE_4));
            }
            if (L > 2) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_2));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_2));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_2));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_2));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_2));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_2));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_2));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_2));
                a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_2));
                a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_2));
                a2c = a2c.add(a2c.rearrange(VectorMath.ROTATE_2));
                a2d = a2d.add(a2d.rearrange(VectorMath.ROTATE_2));
                a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_2));
                a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_2));
                a3c = a3c.add(a3c.rearrange(VectorMath.ROTATE_2));
                a3d = a3d.add(a3d.rearrange(VectorMath.ROTATE_2));
            }
            a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_1));
            a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_1));
            a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_1));
            a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_1));
            a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_1));
            a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_1));
            a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_1));
            a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_1));
            a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_1));
            a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_1));
            a2c = a2c.add(a2c.rearrange(VectorMath.ROTATE_1));
            a2d = a2d.add(a2d.rearrange(VectorMath.ROTATE_1));
            a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_1));
            a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_1));
            a3c = a3c.add(a3c.rearrange(VectorMath.ROTATE_1));
            a3d = a3d.add(a3d.rearrange(VectorMath.ROTATE_1));
            float t0a = a0a.lane(0);
            float t0b = a0b.lane(0);
            float t0c = a0c.lane(0);
            float t0d = a0d.lane(0);
            float t1a = a1a.lane(0);
            float t1b = a1b.lane(0);
            float t1c = a1c.lane(0);
            float t1d = a1d.lane(0);
            float t2a = a2a.lane(0);
            float t2b = a2b.lane(0);
            float t2c = a2c.lane(0);
            float t2d = a2d.lane(0);
            float t3a = a3a.lane(0);
            float t3b = a3b.lane(0);
            float t3c = a3c.lane(0);
            float t3d = a3d.lane(0);
            for (; c < k; c++) {
                float wa = Numerics.load(w, DType.F32, ra + c);
                float wb = Numerics.load(w, DType.F32, rb + c);
                float wc = Numerics.load(w, DType.F32, rc + c);
                float wd = Numerics.load(w, DType.F32, rd + c);
                t0a += x[x0 + c] * wa;
                t0b += x[x0 + c] * wb;
                t0c += x[x0 + c] * wc;
                t0d += x[x0 + c] * wd;
                t1a += x[x1 + c] * wa;
                t1b += x[x1 + c] * wb;
                t1c += x[x1 + c] * wc;
                t1d += x[x1 + c] * wd;
                t2a += x[x2 + c] * wa;
                t2b += x[x2 + c] * wb;
                t2c += x[x2 + c] * wc;
                t2d += x[x2 + c] * wd;
                t3a += x[x3 + c] * wa;
                t3b += x[x3 + c] * wb;
                t3c += x[x3 + c] * wc;
                t3d += x[x3 + c] * wd;
            }
            y[y0 + j] = t0a;
            y[y0 + jb] = t0b;
            y[y0 + jc] = t0c;
            y[y0 + jd] = t0d;
            y[y1 + j] = t1a;
            y[y1 + jb] = t1b;
            y[y1 + jc] = t1c;
            y[y1 + jd] = t1d;
            y[y2 + j] = t2a;
            y[y2 + jb] = t2b;
            y[y2 + jc] = t2c;
            y[y2 + jd] = t2d;
            y[y3 + j] = t3a;
            y[y3 + jb] = t3b;
            y[y3 + jc] = t3c;
            y[y3 + jd] = t3d;
        }
    }

    /** {@link #tile4x4F32} for two X rows {@code x0, x1}: the rows left over from groups of four. */
    static void tile2x4F32(float[] x, int x0, int x1, MemorySegment w, int k, int j0, int j1, float[] y, int y0,
                           int y1) {
        int vectors = k / L * L;
        int sweep = RowSweeps.quarter(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            int jc = Math.min(j + 2 * sweep, j1 - 1);
            int jd = Math.min(j + 3 * sweep, j1 - 1);
            long ra = (long) j * k;
            long rb = (long) jb * k;
            long rc = (long) jc * k;
            long rd = (long) jd * k;
            FloatVector a0a = FloatVector.zero(F);
            FloatVector a0b = a0a;
            FloatVector a0c = a0a;
            FloatVector a0d = a0a;
            FloatVector a1a = a0a;
            FloatVector a1b = a0a;
            FloatVector a1c = a0a;
            FloatVector a1d = a0a;
            int c = 0;
            for (; c < vectors; c += L) {
                FloatVector wa = WeightVectors.f32(w, ra + c);
                FloatVector wb = WeightVectors.f32(w, rb + c);
                FloatVector wc = WeightVectors.f32(w, rc + c);
                FloatVector wd = WeightVectors.f32(w, rd + c);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
                a0a = wa.fma(xv, a0a);
                a0b = wb.fma(xv, a0b);
                a0c = wc.fma(xv, a0c);
                a0d = wd.fma(xv, a0d);
                xv = FloatVector.fromArray(F, x, x1 + c);
                a1a = wa.fma(xv, a1a);
                a1b = wb.fma(xv, a1b);
                a1c = wc.fma(xv, a1c);
                a1d = wd.fma(xv, a1d);
            }
            if (L > 8) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_8));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_8));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_8));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_8));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_8));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_8));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_8));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_8));
            }
            if (L > 4) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_4));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_4));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_4));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_4));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_4));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_4));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_4));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_4));
            }
            if (L > 2) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_2));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_2));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_2));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_2));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_2));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_2));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_2));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_2));
            }
            a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_1));
            a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_1));
            a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_1));
            a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_1));
            a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_1));
            a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_1));
            a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_1));
            a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_1));
            float t0a = a0a.lane(0);
            float t0b = a0b.lane(0);
            float t0c = a0c.lane(0);
            float t0d = a0d.lane(0);
            float t1a = a1a.lane(0);
            float t1b = a1b.lane(0);
            float t1c = a1c.lane(0);
            float t1d = a1d.lane(0);
            for (; c < k; c++) {
                float wa = Numerics.load(w, DType.F32, ra + c);
                float wb = Numerics.load(w, DType.F32, rb + c);
                float wc = Numerics.load(w, DType.F32, rc + c);
                float wd = Numerics.load(w, DType.F32, rd + c);
                t0a += x[x0 + c] * wa;
                t0b += x[x0 + c] * wb;
                t0c += x[x0 + c] * wc;
                t0d += x[x0 + c] * wd;
                t1a += x[x1 + c] * wa;
                t1b += x[x1 + c] * wb;
                t1c += x[x1 + c] * wc;
                t1d += x[x1 + c] * wd;
            }
            y[y0 + j] = t0a;
            y[y0 + jb] = t0b;
            y[y0 + jc] = t0c;
            y[y0 + jd] = t0d;
            y[y1 + j] = t1a;
            y[y1 + jb] = t1b;
            y[y1 + jc] = t1c;
            y[y1 + jd] = t1d;
        }
    }

    /** {@link #tile4x4F32} for BF16 weights, each W vector widened once for the tile. */
    static void tile4x4Bf16(float[] x, int x0, int x1, int x2, int x3, MemorySegment w, int k, int j0, int j1,
                            float[] y, int y0, int y1, int y2, int y3) {
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
            FloatVector a0a = FloatVector.zero(F);
            FloatVector a0b = a0a;
            FloatVector a0c = a0a;
            FloatVector a0d = a0a;
            FloatVector a1a = a0a;
            FloatVector a1b = a0a;
            FloatVector a1c = a0a;
            FloatVector a1d = a0a;
            FloatVector a2a = a0a;
            FloatVector a2b = a0a;
            FloatVector a2c = a0a;
            FloatVector a2d = a0a;
            FloatVector a3a = a0a;
            FloatVector a3b = a0a;
            FloatVector a3c = a0a;
            FloatVector a3d = a0a;
            int c = 0;
            for (; c < pairs; c += 2 * L) {
                IntVector va = WeightVectors.bf16Pairs(w, ra + c);
                IntVector vb = WeightVectors.bf16Pairs(w, rb + c);
                IntVector vc = WeightVectors.bf16Pairs(w, rc + c);
                IntVector vd = WeightVectors.bf16Pairs(w, rd + c);
                FloatVector wa = WeightVectors.bf16Even(va);
                FloatVector wb = WeightVectors.bf16Even(vb);
                FloatVector wc = WeightVectors.bf16Even(vc);
                FloatVector wd = WeightVectors.bf16Even(vd);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
                a0a = wa.fma(xv, a0a);
                a0b = wb.fma(xv, a0b);
                a0c = wc.fma(xv, a0c);
                a0d = wd.fma(xv, a0d);
                xv = FloatVector.fromArray(F, x, x1 + c);
                a1a = wa.fma(xv, a1a);
                a1b = wb.fma(xv, a1b);
                a1c = wc.fma(xv, a1c);
                a1d = wd.fma(xv, a1d);
                xv = FloatVector.fromArray(F, x, x2 + c);
                a2a = wa.fma(xv, a2a);
                a2b = wb.fma(xv, a2b);
                a2c = wc.fma(xv, a2c);
                a2d = wd.fma(xv, a2d);
                xv = FloatVector.fromArray(F, x, x3 + c);
                a3a = wa.fma(xv, a3a);
                a3b = wb.fma(xv, a3b);
                a3c = wc.fma(xv, a3c);
                a3d = wd.fma(xv, a3d);
                wa = WeightVectors.bf16Odd(va);
                wb = WeightVectors.bf16Odd(vb);
                wc = WeightVectors.bf16Odd(vc);
                wd = WeightVectors.bf16Odd(vd);
                xv = FloatVector.fromArray(F, x, x0 + c + L);
                a0a = wa.fma(xv, a0a);
                a0b = wb.fma(xv, a0b);
                a0c = wc.fma(xv, a0c);
                a0d = wd.fma(xv, a0d);
                xv = FloatVector.fromArray(F, x, x1 + c + L);
                a1a = wa.fma(xv, a1a);
                a1b = wb.fma(xv, a1b);
                a1c = wc.fma(xv, a1c);
                a1d = wd.fma(xv, a1d);
                xv = FloatVector.fromArray(F, x, x2 + c + L);
                a2a = wa.fma(xv, a2a);
                a2b = wb.fma(xv, a2b);
                a2c = wc.fma(xv, a2c);
                a2d = wd.fma(xv, a2d);
                xv = FloatVector.fromArray(F, x, x3 + c + L);
                a3a = wa.fma(xv, a3a);
                a3b = wb.fma(xv, a3b);
                a3c = wc.fma(xv, a3c);
                a3d = wd.fma(xv, a3d);
            }
            if (L > 8) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_8));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_8));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_8));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_8));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_8));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_8));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_8));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_8));
                a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_8));
                a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_8));
                a2c = a2c.add(a2c.rearrange(VectorMath.ROTATE_8));
                a2d = a2d.add(a2d.rearrange(VectorMath.ROTATE_8));
                a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_8));
                a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_8));
                a3c = a3c.add(a3c.rearrange(VectorMath.ROTATE_8));
                a3d = a3d.add(a3d.rearrange(VectorMath.ROTATE_8));
            }
            if (L > 4) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_4));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_4));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_4));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_4));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_4));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_4));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_4));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_4));
                a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_4));
                a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_4));
                a2c = a2c.add(a2c.rearrange(VectorMath.ROTATE_4));
                a2d = a2d.add(a2d.rearrange(VectorMath.ROTATE_4));
                a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_4));
                a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_4));
                a3c = a3c.add(a3c.rearrange(VectorMath.ROTATE_4));
                a3d = a3d.add(a3d.rearrange(VectorMath.ROTATE_4));
            }
            if (L > 2) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_2));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_2));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_2));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_2));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_2));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_2));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_2));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_2));
                a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_2));
                a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_2));
                a2c = a2c.add(a2c.rearrange(VectorMath.ROTATE_2));
                a2d = a2d.add(a2d.rearrange(VectorMath.ROTATE_2));
                a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_2));
                a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_2));
                a3c = a3c.add(a3c.rearrange(VectorMath.ROTATE_2));
                a3d = a3d.add(a3d.rearrange(VectorMath.ROTATE_2));
            }
            a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_1));
            a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_1));
            a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_1));
            a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_1));
            a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_1));
            a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_1));
            a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_1));
            a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_1));
            a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_1));
            a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_1));
            a2c = a2c.add(a2c.rearrange(VectorMath.ROTATE_1));
            a2d = a2d.add(a2d.rearrange(VectorMath.ROTATE_1));
            a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_1));
            a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_1));
            a3c = a3c.add(a3c.rearrange(VectorMath.ROTATE_1));
            a3d = a3d.add(a3d.rearrange(VectorMath.ROTATE_1));
            float t0a = a0a.lane(0);
            float t0b = a0b.lane(0);
            float t0c = a0c.lane(0);
            float t0d = a0d.lane(0);
            float t1a = a1a.lane(0);
            float t1b = a1b.lane(0);
            float t1c = a1c.lane(0);
            float t1d = a1d.lane(0);
            float t2a = a2a.lane(0);
            float t2b = a2b.lane(0);
            float t2c = a2c.lane(0);
            float t2d = a2d.lane(0);
            float t3a = a3a.lane(0);
            float t3b = a3b.lane(0);
            float t3c = a3c.lane(0);
            float t3d = a3d.lane(0);
            for (; c < k; c++) {
                float wa = Numerics.load(w, DType.BF16, ra + c);
                float wb = Numerics.load(w, DType.BF16, rb + c);
                float wc = Numerics.load(w, DType.BF16, rc + c);
                float wd = Numerics.load(w, DType.BF16, rd + c);
                t0a += x[x0 + c] * wa;
                t0b += x[x0 + c] * wb;
                t0c += x[x0 + c] * wc;
                t0d += x[x0 + c] * wd;
                t1a += x[x1 + c] * wa;
                t1b += x[x1 + c] * wb;
                t1c += x[x1 + c] * wc;
                t1d += x[x1 + c] * wd;
                t2a += x[x2 + c] * wa;
                t2b += x[x2 + c] * wb;
                t2c += x[x2 + c] * wc;
                t2d += x[x2 + c] * wd;
                t3a += x[x3 + c] * wa;
                t3b += x[x3 + c] * wb;
                t3c += x[x3 + c] * wc;
                t3d += x[x3 + c] * wd;
            }
            y[y0 + j] = t0a;
            y[y0 + jb] = t0b;
            y[y0 + jc] = t0c;
            y[y0 + jd] = t0d;
            y[y1 + j] = t1a;
            y[y1 + jb] = t1b;
            y[y1 + jc] = t1c;
            y[y1 + jd] = t1d;
            y[y2 + j] = t2a;
            y[y2 + jb] = t2b;
            y[y2 + jc] = t2c;
            y[y2 + jd] = t2d;
            y[y3 + j] = t3a;
            y[y3 + jb] = t3b;
            y[y3 + jc] = t3c;
            y[y3 + jd] = t3d;
        }
    }

    /** {@link #tile2x4F32} for BF16 weights. */
    static void tile2x4Bf16(float[] x, int x0, int x1, MemorySegment w, int k, int j0, int j1, float[] y, int y0,
                            int y1) {
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
            FloatVector a0a = FloatVector.zero(F);
            FloatVector a0b = a0a;
            FloatVector a0c = a0a;
            FloatVector a0d = a0a;
            FloatVector a1a = a0a;
            FloatVector a1b = a0a;
            FloatVector a1c = a0a;
            FloatVector a1d = a0a;
            int c = 0;
            for (; c < pairs; c += 2 * L) {
                IntVector va = WeightVectors.bf16Pairs(w, ra + c);
                IntVector vb = WeightVectors.bf16Pairs(w, rb + c);
                IntVector vc = WeightVectors.bf16Pairs(w, rc + c);
                IntVector vd = WeightVectors.bf16Pairs(w, rd + c);
                FloatVector wa = WeightVectors.bf16Even(va);
                FloatVector wb = WeightVectors.bf16Even(vb);
                FloatVector wc = WeightVectors.bf16Even(vc);
                FloatVector wd = WeightVectors.bf16Even(vd);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
                a0a = wa.fma(xv, a0a);
                a0b = wb.fma(xv, a0b);
                a0c = wc.fma(xv, a0c);
                a0d = wd.fma(xv, a0d);
                xv = FloatVector.fromArray(F, x, x1 + c);
                a1a = wa.fma(xv, a1a);
                a1b = wb.fma(xv, a1b);
                a1c = wc.fma(xv, a1c);
                a1d = wd.fma(xv, a1d);
                wa = WeightVectors.bf16Odd(va);
                wb = WeightVectors.bf16Odd(vb);
                wc = WeightVectors.bf16Odd(vc);
                wd = WeightVectors.bf16Odd(vd);
                xv = FloatVector.fromArray(F, x, x0 + c + L);
                a0a = wa.fma(xv, a0a);
                a0b = wb.fma(xv, a0b);
                a0c = wc.fma(xv, a0c);
                a0d = wd.fma(xv, a0d);
                xv = FloatVector.fromArray(F, x, x1 + c + L);
                a1a = wa.fma(xv, a1a);
                a1b = wb.fma(xv, a1b);
                a1c = wc.fma(xv, a1c);
                a1d = wd.fma(xv, a1d);
            }
            if (L > 8) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_8));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_8));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_8));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_8));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_8));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_8));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_8));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_8));
            }
            if (L > 4) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_4));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_4));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_4));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_4));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_4));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_4));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_4));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_4));
            }
            if (L > 2) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_2));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_2));
                a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_2));
                a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_2));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_2));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_2));
                a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_2));
                a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_2));
            }
            a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_1));
            a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_1));
            a0c = a0c.add(a0c.rearrange(VectorMath.ROTATE_1));
            a0d = a0d.add(a0d.rearrange(VectorMath.ROTATE_1));
            a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_1));
            a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_1));
            a1c = a1c.add(a1c.rearrange(VectorMath.ROTATE_1));
            a1d = a1d.add(a1d.rearrange(VectorMath.ROTATE_1));
            float t0a = a0a.lane(0);
            float t0b = a0b.lane(0);
            float t0c = a0c.lane(0);
            float t0d = a0d.lane(0);
            float t1a = a1a.lane(0);
            float t1b = a1b.lane(0);
            float t1c = a1c.lane(0);
            float t1d = a1d.lane(0);
            for (; c < k; c++) {
                float wa = Numerics.load(w, DType.BF16, ra + c);
                float wb = Numerics.load(w, DType.BF16, rb + c);
                float wc = Numerics.load(w, DType.BF16, rc + c);
                float wd = Numerics.load(w, DType.BF16, rd + c);
                t0a += x[x0 + c] * wa;
                t0b += x[x0 + c] * wb;
                t0c += x[x0 + c] * wc;
                t0d += x[x0 + c] * wd;
                t1a += x[x1 + c] * wa;
                t1b += x[x1 + c] * wb;
                t1c += x[x1 + c] * wc;
                t1d += x[x1 + c] * wd;
            }
            y[y0 + j] = t0a;
            y[y0 + jb] = t0b;
            y[y0 + jc] = t0c;
            y[y0 + jd] = t0d;
            y[y1 + j] = t1a;
            y[y1 + jb] = t1b;
            y[y1 + jc] = t1c;
            y[y1 + jd] = t1d;
        }
    }

    /** {@link #tile4x4F32} for F16 weights, two W rows at a time (see the class comment). */
    static void tile4x2F16(float[] x, int x0, int x1, int x2, int x3, MemorySegment w, int k, int j0, int j1, float[] y,
                           int y0, int y1, int y2, int y3) {
        int vectors = k / L * L;
        int sweep = RowSweeps.half(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            long ra = (long) j * k;
            long rb = (long) jb * k;
            FloatVector a0a = FloatVector.zero(F);
            FloatVector a0b = a0a;
            FloatVector a1a = a0a;
            FloatVector a1b = a0a;
            FloatVector a2a = a0a;
            FloatVector a2b = a0a;
            FloatVector a3a = a0a;
            FloatVector a3b = a0a;
            int c = 0;
            for (; c < vectors; c += L) {
                FloatVector wa = WeightVectors.f16(w, ra + c);
                FloatVector wb = WeightVectors.f16(w, rb + c);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
                a0a = wa.fma(xv, a0a);
                a0b = wb.fma(xv, a0b);
                xv = FloatVector.fromArray(F, x, x1 + c);
                a1a = wa.fma(xv, a1a);
                a1b = wb.fma(xv, a1b);
                xv = FloatVector.fromArray(F, x, x2 + c);
                a2a = wa.fma(xv, a2a);
                a2b = wb.fma(xv, a2b);
                xv = FloatVector.fromArray(F, x, x3 + c);
                a3a = wa.fma(xv, a3a);
                a3b = wb.fma(xv, a3b);
            }
            if (L > 8) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_8));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_8));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_8));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_8));
                a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_8));
                a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_8));
                a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_8));
                a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_8));
            }
            if (L > 4) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_4));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_4));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_4));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_4));
                a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_4));
                a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_4));
                a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_4));
                a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_4));
            }
            if (L > 2) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_2));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_2));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_2));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_2));
                a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_2));
                a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_2));
                a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_2));
                a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_2));
            }
            a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_1));
            a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_1));
            a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_1));
            a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_1));
            a2a = a2a.add(a2a.rearrange(VectorMath.ROTATE_1));
            a2b = a2b.add(a2b.rearrange(VectorMath.ROTATE_1));
            a3a = a3a.add(a3a.rearrange(VectorMath.ROTATE_1));
            a3b = a3b.add(a3b.rearrange(VectorMath.ROTATE_1));
            float t0a = a0a.lane(0);
            float t0b = a0b.lane(0);
            float t1a = a1a.lane(0);
            float t1b = a1b.lane(0);
            float t2a = a2a.lane(0);
            float t2b = a2b.lane(0);
            float t3a = a3a.lane(0);
            float t3b = a3b.lane(0);
            for (; c < k; c++) {
                float wa = Numerics.load(w, DType.F16, ra + c);
                float wb = Numerics.load(w, DType.F16, rb + c);
                t0a += x[x0 + c] * wa;
                t0b += x[x0 + c] * wb;
                t1a += x[x1 + c] * wa;
                t1b += x[x1 + c] * wb;
                t2a += x[x2 + c] * wa;
                t2b += x[x2 + c] * wb;
                t3a += x[x3 + c] * wa;
                t3b += x[x3 + c] * wb;
            }
            y[y0 + j] = t0a;
            y[y0 + jb] = t0b;
            y[y1 + j] = t1a;
            y[y1 + jb] = t1b;
            y[y2 + j] = t2a;
            y[y2 + jb] = t2b;
            y[y3 + j] = t3a;
            y[y3 + jb] = t3b;
        }
    }

    /** {@link #tile4x2F16} for two X rows {@code x0, x1}. */
    static void tile2x2F16(float[] x, int x0, int x1, MemorySegment w, int k, int j0, int j1, float[] y, int y0,
                           int y1) {
        int vectors = k / L * L;
        int sweep = RowSweeps.half(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            long ra = (long) j * k;
            long rb = (long) jb * k;
            FloatVector a0a = FloatVector.zero(F);
            FloatVector a0b = a0a;
            FloatVector a1a = a0a;
            FloatVector a1b = a0a;
            int c = 0;
            for (; c < vectors; c += L) {
                FloatVector wa = WeightVectors.f16(w, ra + c);
                FloatVector wb = WeightVectors.f16(w, rb + c);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
                a0a = wa.fma(xv, a0a);
                a0b = wb.fma(xv, a0b);
                xv = FloatVector.fromArray(F, x, x1 + c);
                a1a = wa.fma(xv, a1a);
                a1b = wb.fma(xv, a1b);
            }
            if (L > 8) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_8));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_8));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_8));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_8));
            }
            if (L > 4) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_4));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_4));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_4));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_4));
            }
            if (L > 2) {
                a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_2));
                a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_2));
                a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_2));
                a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_2));
            }
            a0a = a0a.add(a0a.rearrange(VectorMath.ROTATE_1));
            a0b = a0b.add(a0b.rearrange(VectorMath.ROTATE_1));
            a1a = a1a.add(a1a.rearrange(VectorMath.ROTATE_1));
            a1b = a1b.add(a1b.rearrange(VectorMath.ROTATE_1));
            float t0a = a0a.lane(0);
            float t0b = a0b.lane(0);
            float t1a = a1a.lane(0);
            float t1b = a1b.lane(0);
            for (; c < k; c++) {
                float wa = Numerics.load(w, DType.F16, ra + c);
                float wb = Numerics.load(w, DType.F16, rb + c);
                t0a += x[x0 + c] * wa;
                t0b += x[x0 + c] * wb;
                t1a += x[x1 + c] * wa;
                t1b += x[x1 + c] * wb;
            }
            y[y0 + j] = t0a;
            y[y0 + jb] = t0b;
            y[y1 + j] = t1a;
            y[y1 + jb] = t1b;
        }
    }
}
