package dev.tailor.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scalar reference code for ggml's block formats ({@link DType#Q8_0}, {@link DType#Q4_0}, {@link DType#Q4_K},
 * {@link DType#Q5_K}, {@link DType#Q6_K}): quantizing float rows to Q8_0 and Q4_0 bit for bit as ggml's
 * {@code quantize_row_q8_0_ref} and {@code quantize_row_q4_0_ref} do (so the bytes are those {@code llama-quantize}
 * writes for these types), and dequantizing rows of all five as ggml's {@code dequantize_row_*} do.
 *
 * <p>Details that decide the bits: scales are stored as F16 rounded to nearest even (ggml's
 * {@code GGML_FP32_TO_FP16}); Q8_0 rounds {@code x·(1/d)} half away from zero (C's {@code roundf}); Q4_0 takes the
 * signed value of largest magnitude (the first, if several), {@code d = max / -8} and
 * {@code q = min(15, (int) (x·(1/d) + 8.5))} with each step rounded to float; an all-zero block has {@code d = 0} and
 * quantizes to zeros. Dequantized values are exact float products for Q8_0 and Q4_0 (an int8 or nibble times an F16
 * scale needs at most 19 bits of significand), and follow ggml's operation order for the K-quants.
 */
public final class Quantization {
    /** Elements per Q8_0 / Q4_0 block. */
    public static final int QK = 32;
    /** Elements per K-quant super-block. */
    public static final int QK_K = 256;

    private Quantization() {
    }

    /**
     * Quantizes {@code src[srcOff .. srcOff + n)} into {@code n / 32} blocks of {@code type} at byte {@code dstOff}
     * of {@code dst}.
     *
     * @throws IllegalArgumentException if {@code type} is not Q8_0 or Q4_0, or n is not a multiple of 32
     */
    public static void quantizeRow(DType type, float[] src, int srcOff, int n, MemorySegment dst, long dstOff) {
        if (type != DType.Q8_0 && type != DType.Q4_0) {
            throw new IllegalArgumentException("can quantize to Q8_0 or Q4_0, not " + type);
        }
        type.bytesFor(n);
        for (int b = 0; b < n / QK; b++) {
            long at = dstOff + (long) b * type.blockBytes();
            if (type == DType.Q8_0) {
                quantizeQ8(src, srcOff + b * QK, dst, at);
            } else {
                quantizeQ4(src, srcOff + b * QK, dst, at);
            }
        }
    }

    private static void quantizeQ8(float[] x, int o, MemorySegment dst, long at) {
        float amax = 0f;
        for (int j = 0; j < QK; j++) {
            amax = Math.max(amax, Math.abs(x[o + j]));
        }
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        dst.set(Numerics.I16_LE, at, Float.floatToFloat16(d));
        for (int j = 0; j < QK; j++) {
            dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) roundHalfAway(x[o + j] * id));
        }
    }

    private static void quantizeQ4(float[] x, int o, MemorySegment dst, long at) {
        float amax = 0f;
        float max = 0f;
        for (int j = 0; j < QK; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8f;
        float id = d != 0f ? 1f / d : 0f;
        dst.set(Numerics.I16_LE, at, Float.floatToFloat16(d));
        for (int j = 0; j < QK / 2; j++) {
            float x0 = x[o + j] * id;
            float x1 = x[o + QK / 2 + j] * id;
            int q0 = Math.min(15, (int) (x0 + 8.5f));
            int q1 = Math.min(15, (int) (x1 + 8.5f));
            dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (q0 | q1 << 4));
        }
    }

    /** C's {@code roundf}: to nearest, halves away from zero (in double, so {@code 0.49999997f} stays below one half). */
    static float roundHalfAway(float v) {
        return (float) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }

    /**
     * Dequantizes the {@code n} elements (a whole number of blocks) of {@code type} stored from byte {@code srcOff}
     * of {@code src} into {@code dst[dstOff .. dstOff + n)}.
     *
     * @throws IllegalArgumentException if {@code type} is not block-quantized, or n is not a multiple of its block
     */
    public static void dequantizeRow(DType type, MemorySegment src, long srcOff, int n, float[] dst, int dstOff) {
        if (!type.isQuantized()) {
            throw new IllegalArgumentException("not a block-quantized type: " + type);
        }
        type.bytesFor(n);
        for (int b = 0; b < n / type.blockSize(); b++) {
            long at = srcOff + (long) b * type.blockBytes();
            int o = dstOff + b * type.blockSize();
            switch (type) {
                case Q8_0 -> dequantizeQ8(src, at, dst, o);
                case Q4_0 -> dequantizeQ4(src, at, dst, o);
                case Q4_K -> dequantizeQ4K(src, at, dst, o);
                case Q5_K -> dequantizeQ5K(src, at, dst, o);
                default -> dequantizeQ6K(src, at, dst, o);
            }
        }
    }

    /** Element {@code c} of the row of {@code type} stored from byte {@code rowOff} of {@code src}. */
    static float element(DType type, MemorySegment src, long rowOff, int c) {
        long at = rowOff + (long) (c / type.blockSize()) * type.blockBytes();
        int j = c % type.blockSize();
        return switch (type) {
            case Q8_0 -> src.get(ValueLayout.JAVA_BYTE, at + 2 + j) * scale(src, at);
            case Q4_0 -> {
                int b = src.get(ValueLayout.JAVA_BYTE, at + 2 + j % 16) & 0xFF;
                yield ((j < 16 ? b & 0xF : b >>> 4) - 8) * scale(src, at);
            }
            default -> {
                float[] block = new float[QK_K];
                dequantizeRow(type, src, at, QK_K, block, 0);
                yield block[j];
            }
        };
    }

    /**
     * The F16 scale of every block of a {@code [rows, cols]} Q8_0 or Q4_0 matrix at {@code src}, widened:
     * {@code [rows, cols / 32]} row-major.
     *
     * @throws IllegalArgumentException if {@code type} is not Q8_0 or Q4_0
     */
    static float[] blockScales(DType type, MemorySegment src, int rows, int cols) {
        if (type != DType.Q8_0 && type != DType.Q4_0) {
            throw new IllegalArgumentException("only Q8_0 and Q4_0 blocks have one scale each, not " + type);
        }
        int blocks = cols / QK;
        long rowBytes = type.bytesFor(cols);
        float[] scales = new float[Math.multiplyExact(rows, blocks)];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < blocks; b++) {
                scales[r * blocks + b] = scale(src, r * rowBytes + (long) b * type.blockBytes());
            }
        }
        return scales;
    }

    private static float scale(MemorySegment src, long at) {
        return Float.float16ToFloat(src.get(Numerics.I16_LE, at));
    }

    private static int u8(MemorySegment src, long at) {
        return src.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    private static void dequantizeQ8(MemorySegment src, long at, float[] y, int o) {
        float d = scale(src, at);
        for (int j = 0; j < QK; j++) {
            y[o + j] = src.get(ValueLayout.JAVA_BYTE, at + 2 + j) * d;
        }
    }

    private static void dequantizeQ4(MemorySegment src, long at, float[] y, int o) {
        float d = scale(src, at);
        for (int j = 0; j < QK / 2; j++) {
            int b = u8(src, at + 2 + j);
            y[o + j] = ((b & 0xF) - 8) * d;
            y[o + j + QK / 2] = ((b >>> 4) - 8) * d;
        }
    }

    /**
     * {@link #scaleMinK4} for all eight sub-blocks at once, as ggml's vector dot products unpack them: the 6-bit scales
     * ({@code mins} false) or mins from the twelve bytes at {@code scales}, sub-block j's in byte j of the result
     * ({@link #subBlockByte}).
     */
    static long scalesMinsK4(MemorySegment src, long scales, boolean mins) {
        int low = src.get(Numerics.I32_LE, scales + (mins ? 4 : 0));
        int nibbles = src.get(Numerics.I32_LE, scales + 8);
        int high = ((mins ? nibbles >>> 4 : nibbles) & 0x0F0F0F0F) | ((low >>> 2) & 0x30303030);
        return (low & 0x3F3F3F3FL) | ((long) high << 32);
    }

    /** Byte {@code j} of {@link #scalesMinsK4}'s result: sub-block j's scale or min. */
    static int subBlockByte(long packed, int j) {
        return (int) (packed >>> (8 * j)) & 0xFF;
    }

    /** ggml's {@code get_scale_min_k4}: the 6-bit scale (index 0) and min (index 1) of sub-block {@code j}. */
    static int scaleMinK4(MemorySegment src, long scales, int j, boolean min) {
        if (j < 4) {
            return u8(src, scales + j + (min ? 4 : 0)) & 63;
        }
        int low = u8(src, scales + j + 4);
        return min ? (low >>> 4) | ((u8(src, scales + j) >>> 6) << 4)
                : (low & 0xF) | ((u8(src, scales + j - 4) >>> 6) << 4);
    }

    private static void dequantizeQ4K(MemorySegment src, long at, float[] y, int o) {
        float d = scale(src, at);
        float min = scale(src, at + 2);
        long scales = at + 4;
        long q = at + 16;
        for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, q += 32) {
            float d1 = d * scaleMinK4(src, scales, is, false);
            float m1 = min * scaleMinK4(src, scales, is, true);
            float d2 = d * scaleMinK4(src, scales, is + 1, false);
            float m2 = min * scaleMinK4(src, scales, is + 1, true);
            for (int l = 0; l < 32; l++) {
                y[o + j + l] = d1 * (u8(src, q + l) & 0xF) - m1;
                y[o + j + 32 + l] = d2 * (u8(src, q + l) >>> 4) - m2;
            }
        }
    }

    private static void dequantizeQ5K(MemorySegment src, long at, float[] y, int o) {
        float d = scale(src, at);
        float min = scale(src, at + 2);
        long scales = at + 4;
        long qh = at + 16;
        long ql = at + 48;
        int u1 = 1;
        int u2 = 2;
        for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            float d1 = d * scaleMinK4(src, scales, is, false);
            float m1 = min * scaleMinK4(src, scales, is, true);
            float d2 = d * scaleMinK4(src, scales, is + 1, false);
            float m2 = min * scaleMinK4(src, scales, is + 1, true);
            for (int l = 0; l < 32; l++) {
                int h = u8(src, qh + l);
                y[o + j + l] = d1 * ((u8(src, ql + l) & 0xF) + ((h & u1) != 0 ? 16 : 0)) - m1;
                y[o + j + 32 + l] = d2 * ((u8(src, ql + l) >>> 4) + ((h & u2) != 0 ? 16 : 0)) - m2;
            }
        }
    }

    private static void dequantizeQ6K(MemorySegment src, long at, float[] y, int o) {
        float d = scale(src, at + 208);
        long ql = at;
        long qh = at + 128;
        long sc = at + 192;
        for (int n = 0; n < QK_K; n += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = u8(src, qh + l);
                int q1 = ((u8(src, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((u8(src, ql + l + 32) & 0xF) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((u8(src, ql + l) >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((u8(src, ql + l + 32) >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                y[o + n + l] = d * src.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                y[o + n + l + 32] = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                y[o + n + l + 64] = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                y[o + n + l + 96] = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
        }
    }
}
