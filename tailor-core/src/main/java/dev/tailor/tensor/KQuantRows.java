package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.I;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * K-quant rows (Q4_K, Q5_K, Q6_K) dequantized with vectors, for the kernels that multiply K-quant weights a few rows
 * or a panel at a time ({@link QuantGemv}, {@link QuantPack}). Each element gets exactly {@link Quantization}'s
 * operations (ggml's {@code dequantize_row_*}): the same integer unpacking, then the same float multiplications and
 * subtraction in the same order, L elements at a time, so the values are bit for bit the scalar code's
 * ({@code KQuantRowsTest}). Where byte vectors of L lanes do not exist ({@link QuantVectors#SUPPORTED} false) the
 * scalar code runs.
 */
final class KQuantRows {
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, Math.min(128, L * 8))));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private KQuantRows() {
    }

    /**
     * Dequantizes the {@code n} elements (whole super-blocks) of {@code type} stored from byte {@code srcOff} of
     * {@code src} into {@code dst[dstOff .. dstOff + n)}, as {@link Quantization#dequantizeRow} does.
     */
    static void dequantize(DType type, MemorySegment src, long srcOff, int n, float[] dst, int dstOff) {
        if (!QuantVectors.SUPPORTED) {
            Quantization.dequantizeRow(type, src, srcOff, n, dst, dstOff);
            return;
        }
        for (int b = 0; b < n / Quantization.QK_K; b++) {
            long at = srcOff + (long) b * type.blockBytes();
            int o = dstOff + b * Quantization.QK_K;
            switch (type) {
                case Q4_K -> q4k(src, at, dst, o);
                case Q5_K -> q5k(src, at, dst, o);
                case Q6_K -> q6k(src, at, dst, o);
                default -> throw new IllegalArgumentException("not a K-quant type: " + type);
            }
        }
    }

    /** The L bytes at {@code at} as unsigned ints. */
    private static IntVector bytes(MemorySegment src, long at) {
        return ((IntVector) ByteVector.fromMemorySegment(B, src, at, LE).convertShape(VectorOperators.B2I, I, 0))
                .and(0xFF);
    }

    private static float scale(MemorySegment src, long at) {
        return Float.float16ToFloat(src.get(Numerics.I16_LE, at));
    }

    private static void q4k(MemorySegment src, long at, float[] y, int o) {
        float d = scale(src, at);
        float min = scale(src, at + 2);
        long scales = Quantization.scalesMinsK4(src, at + 4, false);
        long mins = Quantization.scalesMinsK4(src, at + 4, true);
        long q = at + 16;
        for (int j = 0, is = 0; j < Quantization.QK_K; j += 64, is += 2, q += 32) {
            float d1 = d * Quantization.subBlockByte(scales, is);
            float m1 = min * Quantization.subBlockByte(mins, is);
            float d2 = d * Quantization.subBlockByte(scales, is + 1);
            float m2 = min * Quantization.subBlockByte(mins, is + 1);
            for (int l = 0; l < 32; l += L) {
                IntVector b = bytes(src, q + l);
                ((FloatVector) b.and(0xF).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1)
                        .intoArray(y, o + j + l);
                ((FloatVector) b.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2)
                        .intoArray(y, o + j + 32 + l);
            }
        }
    }

    private static void q5k(MemorySegment src, long at, float[] y, int o) {
        float d = scale(src, at);
        float min = scale(src, at + 2);
        long scales = Quantization.scalesMinsK4(src, at + 4, false);
        long mins = Quantization.scalesMinsK4(src, at + 4, true);
        long qh = at + 16;
        long ql = at + 48;
        int shift = 0;
        for (int j = 0, is = 0; j < Quantization.QK_K; j += 64, is += 2, ql += 32, shift += 2) {
            float d1 = d * Quantization.subBlockByte(scales, is);
            float m1 = min * Quantization.subBlockByte(mins, is);
            float d2 = d * Quantization.subBlockByte(scales, is + 1);
            float m2 = min * Quantization.subBlockByte(mins, is + 1);
            for (int l = 0; l < 32; l += L) {
                IntVector b = bytes(src, ql + l);
                IntVector h = bytes(src, qh + l);
                IntVector lo = b.and(0xF).add(h.lanewise(VectorOperators.LSHR, shift).and(1).lanewise(
                        VectorOperators.LSHL, 4));
                IntVector hi = b.lanewise(VectorOperators.LSHR, 4).add(h.lanewise(VectorOperators.LSHR, shift + 1)
                        .and(1).lanewise(VectorOperators.LSHL, 4));
                ((FloatVector) lo.convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(y, o + j + l);
                ((FloatVector) hi.convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(y, o + j + 32 + l);
            }
        }
    }

    private static void q6k(MemorySegment src, long at, float[] y, int o) {
        float d = scale(src, at + 208);
        long ql = at;
        long qh = at + 128;
        long sc = at + 192;
        for (int n = 0; n < Quantization.QK_K; n += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l += L) {
                int is = l / 16;
                IntVector a = bytes(src, ql + l);
                IntVector b = bytes(src, ql + l + 32);
                IntVector h = bytes(src, qh + l);
                IntVector q1 = a.and(0xF).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q2 = b.and(0xF).or(h.lanewise(VectorOperators.LSHR, 2).and(3)
                        .lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4).and(3)
                        .lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q4 = b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6).and(3)
                        .lanewise(VectorOperators.LSHL, 4)).sub(32);
                float s1 = d * src.get(ValueLayout.JAVA_BYTE, sc + is);
                float s2 = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 2);
                float s3 = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 4);
                float s4 = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 6);
                ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(s1).intoArray(y, o + n + l);
                ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(s2).intoArray(y, o + n + l + 32);
                ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(s3).intoArray(y, o + n + l + 64);
                ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(s4).intoArray(y, o + n + l + 96);
            }
        }
    }
}
