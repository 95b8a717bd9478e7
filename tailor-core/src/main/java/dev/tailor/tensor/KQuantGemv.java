package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.I;
import static dev.tailor.tensor.WeightVectors.L;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2I;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link QuantGemv}'s one-row products over K-quant weights (Q4_K, Q5_K, Q6_K), dequantized in registers: the decode
 * step of a model kept in its GGUF file's K-quant bytes.
 *
 * <p>Four W rows at a time, as {@link QuantGemv}'s Q8_0/Q4_0 kernels. Per 256-element super-block the four rows'
 * sub-block scales are unpacked once into a small per-thread array (ggml's products {@code d·scale} and
 * {@code dmin·min}, the scalar part of the work); then each row's elements are unpacked L at a time with
 * {@link KQuantRows}' integer operations and the same float multiplication and subtraction, so each vector holds the
 * exact dequantized values, and fed in increasing element order to its row's accumulator by one fused multiply-add.
 * That is {@link Gemv}'s order on the dequantized row: the result has the bits of the group path (a few rows
 * dequantized into scratch, then {@link Gemv}), and of the F32 product over {@link WeightMatrix#dequantize}d weights,
 * without writing and re-reading the dequantized rows. Where a vector holds 16 floats ({@link QuantVectors#Q4_LOOKUP})
 * Q4_K's elements are looked up instead: per sub-block and W row the 16 values its nibbles stand for,
 * {@code q·(d·scale) - dmin·min} for q = 0..15, are made once with the per-element code's own multiplication and
 * subtraction, and each vector of elements is one permutation of them by its nibbles; the same values meet X in the
 * same order, so the bits are the same. Needs {@link QuantVectors#SUPPORTED}.
 */
final class KQuantGemv {
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, Math.min(128, L * 8))));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Sub-blocks of a super-block: 8 of 32 elements (Q4_K, Q5_K) or 16 of 16 (Q6_K). */
    private static final int SUBS = 16;
    private static final ThreadLocal<float[]> SCALES = ThreadLocal.withInitial(() -> new float[0]);
    /** 0..15 as floats, the values a Q4_K nibble stands for before its sub-block's scale and min. */
    private static final FloatVector NIBBLE_VALUES = QuantVectors.Q4_LOOKUP
            ? FloatVector.fromArray(F, new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 0)
            : null;

    private KQuantGemv() {
    }

    /**
     * The X row at {@code xo} against K-quant W rows {@code [j0, j1)}: {@code y[yo + j] = Σ_c x[xo + c] · w[j, c]},
     * four rows at a time, a quarter of the range apart as {@link Gemv}'s rows are.
     *
     * <p>Q4_K and Q5_K (their scales are packed alike; Q5_K adds a fifth bit per element from its {@code qh} bytes):
     * {@code s[(sub·4 + r)·2]} holds row r's {@code d·scale} of sub-block {@code sub}, the next entry its
     * {@code dmin·min}; sub-block {@code 2c} is the low nibbles of the 32 bytes of chunk c, sub-block {@code 2c + 1}
     * their high nibbles; Q5_K's fifth bit of sub-block {@code sub} is bit {@code sub} of {@code qh[l]}.
     *
     * <p>Q6_K: {@code s[sub·4 + r]} holds row r's {@code d·scale} of 16-element sub-block {@code sub}. Element e of a
     * super-block lies in half {@code n = e / 128}, quarter {@code r} of 32 within it and offset l in the quarter:
     * four bits of {@code ql} (low nibbles for quarters 0 and 1, high for 2 and 3, of the bytes from
     * {@code 64n + 32·(r & 1)}) and bits {@code 2r, 2r + 1} of {@code qh[32n + l]}, minus 32.
     *
     * <p>The element vectors and the four lane sums are written out per row, not passed to or returned by helpers: a
     * helper that C2 does not inline boxes its vectors (a byte-loading helper made this kernel three times slower, a
     * helper summing the four accumulators 1.7 times; Q4_K's lookup through {@link QuantVectors}' byte-loading, levels
     * and lookup helpers, which {@code QuantGemv}'s smaller Q4_0 kernel inlines, ten times). The low and high nibbles
     * of Q4_K/Q5_K take two loops so that their shifts are constants (one loop with a variable shift measured 10–20%
     * slower for Q4_K). One method per type: as one method the three were too large for C1's tier 3, a trap for a JVM
     * that compiled it at tier 2 first (see {@link PanelGemv}'s tiles).
     */
    static void row(DType type, float[] x, int xo, MemorySegment w, long rowBytes, int k, int j0, int j1, float[] y,
                    int yo) {
        if (type == DType.Q6_K) {
            rowQ6K(x, xo, w, rowBytes, k, j0, j1, y, yo);
        } else if (type == DType.Q4_K && QuantVectors.Q4_LOOKUP) {
            rowQ4KLookup(x, xo, w, rowBytes, k, j0, j1, y, yo);
        } else if (type == DType.Q4_K || type == DType.Q5_K) {
            rowQ45K(type == DType.Q5_K, x, xo, w, rowBytes, k, j0, j1, y, yo);
        } else {
            throw new IllegalArgumentException("not a K-quant type: " + type);
        }
    }

    /** {@link #row} for Q6_K. */
    private static void rowQ6K(float[] x, int xo, MemorySegment w, long rowBytes, int k, int j0, int j1, float[] y,
                               int yo) {
        DType type = DType.Q6_K;
        int supers = k / Quantization.QK_K;
        float[] s = Scratch.floats(SCALES, SUBS * 4 * 2);
        int sweep = RowSweeps.quarter(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            int jc = Math.min(j + 2 * sweep, j1 - 1);
            int jd = Math.min(j + 3 * sweep, j1 - 1);
            FloatVector aa = FloatVector.zero(F);
            FloatVector ab = aa;
            FloatVector ac = aa;
            FloatVector ad = aa;
            for (int sb = 0; sb < supers; sb++) {
                long off = (long) sb * type.blockBytes();
                long ra = j * rowBytes + off;
                long rb = jb * rowBytes + off;
                long rc = jc * rowBytes + off;
                long rd = jd * rowBytes + off;
                int xb = xo + sb * Quantization.QK_K;
                scalesQ6K(w, ra, s, 0);
                scalesQ6K(w, rb, s, 1);
                scalesQ6K(w, rc, s, 2);
                scalesQ6K(w, rd, s, 3);
                for (int e = 0; e < Quantization.QK_K; e += L) {
                    int n = e >>> 7;
                    int r = (e >>> 5) & 3;
                    int l = e & 31;
                    int p = (n * 8 + l / 16 + 2 * r) * 4;
                    long lo = n * 64L + (r & 1) * 32L + l;
                    long hi = 128 + n * 32L + l;
                    int nibble = (r >>> 1) * 4;
                    FloatVector xv = FloatVector.fromArray(F, x, xb + e);
                    IntVector va = ((IntVector) ByteVector.fromMemorySegment(B, w, ra + lo, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, nibble).and(0xF)
                            .or(((IntVector) ByteVector.fromMemorySegment(B, w, ra + hi, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, 2 * r).and(3)
                                    .lanewise(LSHL, 4)).sub(32);
                    IntVector vb = ((IntVector) ByteVector.fromMemorySegment(B, w, rb + lo, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, nibble).and(0xF)
                            .or(((IntVector) ByteVector.fromMemorySegment(B, w, rb + hi, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, 2 * r).and(3)
                                    .lanewise(LSHL, 4)).sub(32);
                    IntVector vc = ((IntVector) ByteVector.fromMemorySegment(B, w, rc + lo, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, nibble).and(0xF)
                            .or(((IntVector) ByteVector.fromMemorySegment(B, w, rc + hi, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, 2 * r).and(3)
                                    .lanewise(LSHL, 4)).sub(32);
                    IntVector vd = ((IntVector) ByteVector.fromMemorySegment(B, w, rd + lo, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, nibble).and(0xF)
                            .or(((IntVector) ByteVector.fromMemorySegment(B, w, rd + hi, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, 2 * r).and(3)
                                    .lanewise(LSHL, 4)).sub(32);
                    aa = ((FloatVector) va.convert(I2F, 0)).mul(s[p]).fma(xv, aa);
                    ab = ((FloatVector) vb.convert(I2F, 0)).mul(s[p + 1]).fma(xv, ab);
                    ac = ((FloatVector) vc.convert(I2F, 0)).mul(s[p + 2]).fma(xv, ac);
                    ad = ((FloatVector) vd.convert(I2F, 0)).mul(s[p + 3]).fma(xv, ad);
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

    /** {@link #row} for Q4_K, each nibble's value looked up in {@link #NIBBLE_VALUES} scaled per sub-block. */
    private static void rowQ4KLookup(float[] x, int xo, MemorySegment w, long rowBytes, int k, int j0, int j1,
                                     float[] y, int yo) {
        DType type = DType.Q4_K;
        long qs = 16;
        int supers = k / Quantization.QK_K;
        float[] s = Scratch.floats(SCALES, SUBS * 4 * 2);
        int sweep = RowSweeps.quarter(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            int jc = Math.min(j + 2 * sweep, j1 - 1);
            int jd = Math.min(j + 3 * sweep, j1 - 1);
            FloatVector aa = FloatVector.zero(F);
            FloatVector ab = aa;
            FloatVector ac = aa;
            FloatVector ad = aa;
            for (int sb = 0; sb < supers; sb++) {
                long off = (long) sb * type.blockBytes();
                long ra = j * rowBytes + off;
                long rb = jb * rowBytes + off;
                long rc = jc * rowBytes + off;
                long rd = jd * rowBytes + off;
                int xb = xo + sb * Quantization.QK_K;
                scalesQ45K(w, ra, s, 0);
                scalesQ45K(w, rb, s, 1);
                scalesQ45K(w, rc, s, 2);
                scalesQ45K(w, rd, s, 3);
                for (int sub = 0; sub < 8; sub += 2) {
                    long q = qs + sub * 16L;
                    int p = sub * 8;
                    int xs = xb + sub * 32;
                    IntVector qa0 = (IntVector) ByteVector.fromMemorySegment(B, w, ra + q, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0);
                    IntVector qa1 = (IntVector) ByteVector.fromMemorySegment(B, w, ra + q + L, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0);
                    IntVector qb0 = (IntVector) ByteVector.fromMemorySegment(B, w, rb + q, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0);
                    IntVector qb1 = (IntVector) ByteVector.fromMemorySegment(B, w, rb + q + L, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0);
                    IntVector qc0 = (IntVector) ByteVector.fromMemorySegment(B, w, rc + q, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0);
                    IntVector qc1 = (IntVector) ByteVector.fromMemorySegment(B, w, rc + q + L, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0);
                    IntVector qd0 = (IntVector) ByteVector.fromMemorySegment(B, w, rd + q, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0);
                    IntVector qd1 = (IntVector) ByteVector.fromMemorySegment(B, w, rd + q + L, LE)
                            .convertShape(ZERO_EXTEND_B2I, I, 0);
                    IntVector la = NIBBLE_VALUES.mul(s[p]).sub(s[p + 1]).reinterpretAsInts();
                    IntVector lb = NIBBLE_VALUES.mul(s[p + 2]).sub(s[p + 3]).reinterpretAsInts();
                    IntVector lc = NIBBLE_VALUES.mul(s[p + 4]).sub(s[p + 5]).reinterpretAsInts();
                    IntVector ld = NIBBLE_VALUES.mul(s[p + 6]).sub(s[p + 7]).reinterpretAsInts();
                    FloatVector xv = FloatVector.fromArray(F, x, xs);
                    aa = qa0.selectFrom(la).reinterpretAsFloats().fma(xv, aa);
                    ab = qb0.selectFrom(lb).reinterpretAsFloats().fma(xv, ab);
                    ac = qc0.selectFrom(lc).reinterpretAsFloats().fma(xv, ac);
                    ad = qd0.selectFrom(ld).reinterpretAsFloats().fma(xv, ad);
                    xv = FloatVector.fromArray(F, x, xs + L);
                    aa = qa1.selectFrom(la).reinterpretAsFloats().fma(xv, aa);
                    ab = qb1.selectFrom(lb).reinterpretAsFloats().fma(xv, ab);
                    ac = qc1.selectFrom(lc).reinterpretAsFloats().fma(xv, ac);
                    ad = qd1.selectFrom(ld).reinterpretAsFloats().fma(xv, ad);
                    la = NIBBLE_VALUES.mul(s[p + 8]).sub(s[p + 9]).reinterpretAsInts();
                    lb = NIBBLE_VALUES.mul(s[p + 10]).sub(s[p + 11]).reinterpretAsInts();
                    lc = NIBBLE_VALUES.mul(s[p + 12]).sub(s[p + 13]).reinterpretAsInts();
                    ld = NIBBLE_VALUES.mul(s[p + 14]).sub(s[p + 15]).reinterpretAsInts();
                    xv = FloatVector.fromArray(F, x, xs + 2 * L);
                    aa = qa0.lanewise(LSHR, 4).selectFrom(la).reinterpretAsFloats().fma(xv, aa);
                    ab = qb0.lanewise(LSHR, 4).selectFrom(lb).reinterpretAsFloats().fma(xv, ab);
                    ac = qc0.lanewise(LSHR, 4).selectFrom(lc).reinterpretAsFloats().fma(xv, ac);
                    ad = qd0.lanewise(LSHR, 4).selectFrom(ld).reinterpretAsFloats().fma(xv, ad);
                    xv = FloatVector.fromArray(F, x, xs + 3 * L);
                    aa = qa1.lanewise(LSHR, 4).selectFrom(la).reinterpretAsFloats().fma(xv, aa);
                    ab = qb1.lanewise(LSHR, 4).selectFrom(lb).reinterpretAsFloats().fma(xv, ab);
                    ac = qc1.lanewise(LSHR, 4).selectFrom(lc).reinterpretAsFloats().fma(xv, ac);
                    ad = qd1.lanewise(LSHR, 4).selectFrom(ld).reinterpretAsFloats().fma(xv, ad);
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

    /** {@link #row} for Q4_K ({@code five} false) and Q5_K, each nibble converted and scaled. */
    private static void rowQ45K(boolean five, float[] x, int xo, MemorySegment w, long rowBytes, int k, int j0, int j1,
                                float[] y, int yo) {
        DType type = five ? DType.Q5_K : DType.Q4_K;
        long qs = five ? 48 : 16;
        int supers = k / Quantization.QK_K;
        float[] s = Scratch.floats(SCALES, SUBS * 4 * 2);
        int sweep = RowSweeps.quarter(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            int jc = Math.min(j + 2 * sweep, j1 - 1);
            int jd = Math.min(j + 3 * sweep, j1 - 1);
            FloatVector aa = FloatVector.zero(F);
            FloatVector ab = aa;
            FloatVector ac = aa;
            FloatVector ad = aa;
            for (int sb = 0; sb < supers; sb++) {
                long off = (long) sb * type.blockBytes();
                long ra = j * rowBytes + off;
                long rb = jb * rowBytes + off;
                long rc = jc * rowBytes + off;
                long rd = jd * rowBytes + off;
                int xb = xo + sb * Quantization.QK_K;
                scalesQ45K(w, ra, s, 0);
                scalesQ45K(w, rb, s, 1);
                scalesQ45K(w, rc, s, 2);
                scalesQ45K(w, rd, s, 3);
                for (int sub = 0; sub < 8; sub += 2) {
                    long q = qs + sub * 16L;
                    int p = sub * 8;
                    for (int l = 0; l < 32; l += L) {
                        FloatVector xv = FloatVector.fromArray(F, x, xb + sub * 32 + l);
                        IntVector va = ((IntVector) ByteVector.fromMemorySegment(B, w, ra + q + l, LE)
                                .convertShape(ZERO_EXTEND_B2I, I, 0)).and(0xF);
                        IntVector vb = ((IntVector) ByteVector.fromMemorySegment(B, w, rb + q + l, LE)
                                .convertShape(ZERO_EXTEND_B2I, I, 0)).and(0xF);
                        IntVector vc = ((IntVector) ByteVector.fromMemorySegment(B, w, rc + q + l, LE)
                                .convertShape(ZERO_EXTEND_B2I, I, 0)).and(0xF);
                        IntVector vd = ((IntVector) ByteVector.fromMemorySegment(B, w, rd + q + l, LE)
                                .convertShape(ZERO_EXTEND_B2I, I, 0)).and(0xF);
                        if (five) {
                            va = va.or(((IntVector) ByteVector.fromMemorySegment(B, w, ra + 16 + l, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0))
                                            .lanewise(LSHR, sub).and(1).lanewise(LSHL, 4));
                            vb = vb.or(((IntVector) ByteVector.fromMemorySegment(B, w, rb + 16 + l, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0))
                                            .lanewise(LSHR, sub).and(1).lanewise(LSHL, 4));
                            vc = vc.or(((IntVector) ByteVector.fromMemorySegment(B, w, rc + 16 + l, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0))
                                            .lanewise(LSHR, sub).and(1).lanewise(LSHL, 4));
                            vd = vd.or(((IntVector) ByteVector.fromMemorySegment(B, w, rd + 16 + l, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0))
                                            .lanewise(LSHR, sub).and(1).lanewise(LSHL, 4));
                        }
                        aa = ((FloatVector) va.convert(I2F, 0)).mul(s[p]).sub(s[p + 1]).fma(xv, aa);
                        ab = ((FloatVector) vb.convert(I2F, 0)).mul(s[p + 2]).sub(s[p + 3]).fma(xv, ab);
                        ac = ((FloatVector) vc.convert(I2F, 0)).mul(s[p + 4]).sub(s[p + 5]).fma(xv, ac);
                        ad = ((FloatVector) vd.convert(I2F, 0)).mul(s[p + 6]).sub(s[p + 7]).fma(xv, ad);
                    }
                    p += 8;
                    int hi = sub + 1;
                    for (int l = 0; l < 32; l += L) {
                        FloatVector xv = FloatVector.fromArray(F, x, xb + sub * 32 + 32 + l);
                        IntVector va = ((IntVector) ByteVector.fromMemorySegment(B, w, ra + q + l, LE)
                                .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, 4);
                        IntVector vb = ((IntVector) ByteVector.fromMemorySegment(B, w, rb + q + l, LE)
                                .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, 4);
                        IntVector vc = ((IntVector) ByteVector.fromMemorySegment(B, w, rc + q + l, LE)
                                .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, 4);
                        IntVector vd = ((IntVector) ByteVector.fromMemorySegment(B, w, rd + q + l, LE)
                                .convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, 4);
                        if (five) {
                            va = va.or(((IntVector) ByteVector.fromMemorySegment(B, w, ra + 16 + l, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0))
                                            .lanewise(LSHR, hi).and(1).lanewise(LSHL, 4));
                            vb = vb.or(((IntVector) ByteVector.fromMemorySegment(B, w, rb + 16 + l, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0))
                                            .lanewise(LSHR, hi).and(1).lanewise(LSHL, 4));
                            vc = vc.or(((IntVector) ByteVector.fromMemorySegment(B, w, rc + 16 + l, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0))
                                            .lanewise(LSHR, hi).and(1).lanewise(LSHL, 4));
                            vd = vd.or(((IntVector) ByteVector.fromMemorySegment(B, w, rd + 16 + l, LE)
                                    .convertShape(ZERO_EXTEND_B2I, I, 0))
                                            .lanewise(LSHR, hi).and(1).lanewise(LSHL, 4));
                        }
                        aa = ((FloatVector) va.convert(I2F, 0)).mul(s[p]).sub(s[p + 1]).fma(xv, aa);
                        ab = ((FloatVector) vb.convert(I2F, 0)).mul(s[p + 2]).sub(s[p + 3]).fma(xv, ab);
                        ac = ((FloatVector) vc.convert(I2F, 0)).mul(s[p + 4]).sub(s[p + 5]).fma(xv, ac);
                        ad = ((FloatVector) vd.convert(I2F, 0)).mul(s[p + 6]).sub(s[p + 7]).fma(xv, ad);
                    }
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

    /**
     * Row {@code r}'s eight {@code (d·scale, dmin·min)} pairs of the Q4_K/Q5_K super-block at {@code at}, the 6-bit
     * scales and mins unpacked from three ints, four per operation ({@link Quantization#scalesMinsK4}): one by one,
     * per element of a one-row product their scalar work was more than the vector work of the elements.
     */
    private static void scalesQ45K(MemorySegment w, long at, float[] s, int r) {
        float d = QuantVectors.scale(w, at);
        float min = QuantVectors.scale(w, at + 2);
        long scales = Quantization.scalesMinsK4(w, at + 4, false);
        long mins = Quantization.scalesMinsK4(w, at + 4, true);
        for (int sub = 0; sub < 8; sub++) {
            s[(sub * 4 + r) * 2] = d * Quantization.subBlockByte(scales, sub);
            s[(sub * 4 + r) * 2 + 1] = min * Quantization.subBlockByte(mins, sub);
        }
    }

    /** Row {@code r}'s sixteen {@code d·scale} of the Q6_K super-block at {@code at}. */
    private static void scalesQ6K(MemorySegment w, long at, float[] s, int r) {
        float d = QuantVectors.scale(w, at + 208);
        for (int sub = 0; sub < SUBS; sub++) {
            s[sub * 4 + r] = d * w.get(ValueLayout.JAVA_BYTE, at + 192 + sub);
        }
    }
}
