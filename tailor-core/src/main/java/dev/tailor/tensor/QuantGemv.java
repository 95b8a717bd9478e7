package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * {@link Gemv} for Q8_0 and K-quant weights (and Q4_0 where {@link IntegerGemv}, which multiplies Q4_0 in integers,
 * lacks the vectors): {@code Y = X·Wᵀ} for a few rows of X (decode), and every product in batch-invariant mode.
 *
 * <p>Every output is computed in {@link Gemv}'s order on the dequantized weights, whose values are exact
 * ({@link Quantization}): a quantized product has the bits of the F32 product over {@link WeightMatrix#dequantize}d
 * weights, and is batch invariant as that one is. One row of X (decode) dequantizes Q8_0 W in registers: four W rows
 * at a time, per 32-element block one scale each (from {@link WeightMatrix#blockScales}, widened once per matrix) and
 * {@link QuantVectors#CHUNKS} byte-vector loads, conversions and multiplications by the scale, each dequantized vector
 * then fed to its row's accumulator by one fused multiply-add with the X vector loaded once for the four. W is read
 * once, at a quarter of F32's bytes, plus the
 * scales. Several rows of X dequantize a group
 * of W rows at a time into a per-thread native scratch of floats (sized for L1) and run {@link GemvTiles}' register
 * tiles over it, so the dequantization is paid once per group, not once per X row. K-quant weights (Q4_K, Q5_K, Q6_K:
 * super-blocks of 256 with packed sub-block scales) stay in their file's bytes in memory: one row of X goes through
 * {@link KQuantGemv}'s kernels, which dequantize in registers as these do, and several rows take the group path, their
 * groups dequantized by {@link KQuantRows} (ggml's exact arithmetic on vectors).
 */
final class QuantGemv {
    /** Target size of a dequantized group of W rows. */
    private static final int GROUP_BYTES = 32 * 1024;
    private static final ThreadLocal<MemorySegment> SCRATCH = ThreadLocal.withInitial(() -> MemorySegment.NULL);

    private QuantGemv() {
    }

    /** Rows {@code [j0, j1)} of W against every row of X: {@code y[yOff + i·n + j] = Σ_c x[xOff + i·k + c] · w[j, c]}. */
    static void rows(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff, int j0, int j1) {
        DType type = w.dtype();
        if (!type.isQuantized()) {
            throw new IllegalArgumentException("not a block-quantized weight type: " + type);
        }
        if (m == 1 && QuantVectors.SUPPORTED && type != DType.Q4_0) {
            switch (type) {
                case Q8_0 -> rowQ8(x, xOff, w.data(), w.rowBytes(), w.blockScales(), w.cols(), j0, j1, y, yOff);
                default -> KQuantGemv.row(type, x, xOff, w.data(), w.rowBytes(), w.cols(), j0, j1, y, yOff);
            }
            return;
        }
        int k = w.cols();
        int group = Math.max(4, (GROUP_BYTES / (k * Float.BYTES)) & ~3);
        MemorySegment s = scratch((long) group * k * Float.BYTES);
        for (int g = j0; g < j1; g += group) {
            int rows = Math.min(j1, g + group) - g;
            MemorySegment f = s.asSlice(0, (long) rows * k * Float.BYTES);
            QuantPack.dequantizeRows(w, g, g + rows, f);
            Gemv.rows(x, xOff, m, new WeightMatrix(f, DType.F32, rows, k), w.rows(), y, yOff + g, 0, rows);
        }
    }

    private static MemorySegment scratch(long bytes) {
        MemorySegment s = SCRATCH.get();
        if (s.byteSize() < bytes) {
            s = Arena.ofAuto().allocate(bytes, 64);
            SCRATCH.set(s);
        }
        return s;
    }

    /**
     * The X row at {@code xo} against Q8_0 W rows {@code [j0, j1)}, four at a time a quarter of the range apart
     * ({@link RowSweeps}; the last one repeated when the range is not a multiple of four), in {@link Gemv}'s order.
     */
    private static void rowQ8(float[] x, int xo, MemorySegment w, long rowBytes, float[] scales, int k, int j0,
                              int j1, float[] y, int yo) {
        int blocks = k >>> 5;
        int sweep = RowSweeps.quarter(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            int jc = Math.min(j + 2 * sweep, j1 - 1);
            int jd = Math.min(j + 3 * sweep, j1 - 1);
            long ra = j * rowBytes;
            long rb = jb * rowBytes;
            long rc = jc * rowBytes;
            long rd = jd * rowBytes;
            int sa = j * blocks;
            int sb = jb * blocks;
            int sc = jc * blocks;
            int sd = jd * blocks;
            FloatVector aa = FloatVector.zero(F);
            FloatVector ab = aa;
            FloatVector ac = aa;
            FloatVector ad = aa;
            for (int b = 0; b < blocks; b++) {
                long o = b * 34L;
                float da = scales[sa + b];
                float db = scales[sb + b];
                float dc = scales[sc + b];
                float dd = scales[sd + b];
                int xc = xo + (b << 5);
                for (int h = 0; h < QuantVectors.CHUNKS; h++) {
                    FloatVector xv = FloatVector.fromArray(F, x, xc + h * L);
                    aa = QuantVectors.q8(w, ra + o, h, da).fma(xv, aa);
                    ab = QuantVectors.q8(w, rb + o, h, db).fma(xv, ab);
                    ac = QuantVectors.q8(w, rc + o, h, dc).fma(xv, ac);
                    ad = QuantVectors.q8(w, rd + o, h, dd).fma(xv, ad);
                }
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
            y[yo + j] = aa.lane(0);
            y[yo + jb] = ab.lane(0);
            y[yo + jc] = ac.lane(0);
            y[yo + jd] = ad.lane(0);
        }
    }
}
