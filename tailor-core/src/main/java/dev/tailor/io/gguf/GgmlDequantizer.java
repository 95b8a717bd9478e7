package dev.tailor.io.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Widens ggml's block types to float32, operation for operation as ggml's {@code dequantize_row_*}
 * ({@code ggml-quants.c}): every product and difference is one float32 operation in ggml's order, so the values
 * are bit-identical to ggml's {@code to_float}. Block layouts (little-endian, {@code f16} = IEEE half):
 * <ul>
 *   <li>Q4_0, 18 bytes per 32 values: {@code f16 d, u8 qs[16]}; value j is {@code ((qs[j] & 15) - 8) * d}, value
 *       j + 16 is {@code ((qs[j] >> 4) - 8) * d}.</li>
 *   <li>Q8_0, 34 bytes per 32: {@code f16 d, i8 qs[32]}; {@code qs[j] * d}.</li>
 *   <li>Q4_K, 144 bytes per 256: {@code f16 d, f16 dmin, u8 scales[12], u8 qs[128]}; eight sub-blocks of 32 with
 *       a 6-bit scale and min each; {@code (d * sc) * q - (dmin * m)}.</li>
 *   <li>Q5_K, 176 bytes per 256: as Q4_K with {@code u8 qh[32]} before {@code qs}, a fifth bit per value.</li>
 *   <li>Q6_K, 210 bytes per 256: {@code u8 ql[128], u8 qh[64], i8 scales[16], f16 d}; sixteen sub-blocks of 16;
 *       {@code (d * sc) * (q - 32)}.</li>
 * </ul>
 */
public final class GgmlDequantizer {
    private static final ValueLayout.OfFloat FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GgmlDequantizer() {
    }

    /**
     * Writes the {@code count} values held by {@code src} in {@code type} into {@code dst} as native-order float32.
     *
     * @param count a multiple of the type's block
     */
    public static void toFloat(MemorySegment src, GgmlType type, long count, MemorySegment dst) {
        int qk = type.blockValues();
        if (qk == 1) {
            for (long i = 0; i < count; i++) {
                dst.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, single(src, type, i));
            }
            return;
        }
        byte[] block = new byte[type.blockBytes()];
        float[] out = new float[qk];
        long blocks = count / qk;
        for (long b = 0; b < blocks; b++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, b * type.blockBytes(), block, 0, block.length);
            switch (type) {
                case Q4_0 -> q4_0(block, out);
                case Q8_0 -> q8_0(block, out);
                case Q4_K -> q4K(block, out);
                case Q5_K -> q5K(block, out);
                case Q6_K -> q6K(block, out);
                default -> throw new IllegalStateException(type.name());
            }
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_FLOAT_UNALIGNED, b * qk * 4L, qk);
        }
    }

    private static float single(MemorySegment src, GgmlType type, long i) {
        return switch (type) {
            case F32 -> src.getAtIndex(FLOAT, i);
            case F16 -> Float.float16ToFloat(src.getAtIndex(SHORT, i));
            case BF16 -> Float.intBitsToFloat(src.getAtIndex(SHORT, i) << 16);
            default -> throw new IllegalStateException(type.name());
        };
    }

    private static float f16(byte[] b, int at) {
        return Float.float16ToFloat((short) ((b[at] & 0xFF) | (b[at + 1] << 8)));
    }

    static void q4_0(byte[] b, float[] y) {
        float d = f16(b, 0);
        for (int j = 0; j < 16; j++) {
            int q = b[2 + j] & 0xFF;
            y[j] = ((q & 0x0F) - 8) * d;
            y[j + 16] = ((q >> 4) - 8) * d;
        }
    }

    static void q8_0(byte[] b, float[] y) {
        float d = f16(b, 0);
        for (int j = 0; j < 32; j++) {
            y[j] = b[2 + j] * d;
        }
    }

    /** ggml's {@code get_scale_min_k4}: the 6-bit scale (index 0) and min (index 1) of sub-block j. */
    private static void scaleMin(int j, byte[] b, int scales, int[] out) {
        if (j < 4) {
            out[0] = b[scales + j] & 63;
            out[1] = b[scales + j + 4] & 63;
        } else {
            out[0] = (b[scales + j + 4] & 0xF) | (((b[scales + j - 4] & 0xFF) >> 6) << 4);
            out[1] = ((b[scales + j + 4] & 0xFF) >> 4) | (((b[scales + j] & 0xFF) >> 6) << 4);
        }
    }

    static void q4K(byte[] b, float[] y) {
        kQuant(b, y, 16, -1);
    }

    static void q5K(byte[] b, float[] y) {
        kQuant(b, y, 48, 16);
    }

    /** Q4_K ({@code qh < 0}) and Q5_K: {@code qs} at byte {@code qsAt}, the fifth bits at {@code qh}. */
    private static void kQuant(byte[] b, float[] y, int qsAt, int qh) {
        float d = f16(b, 0);
        float min = f16(b, 2);
        int[] sm = new int[2];
        int out = 0;
        int u1 = 1;
        int u2 = 2;
        for (int j = 0, is = 0, q = qsAt; j < 256; j += 64, is += 2, q += 32) {
            scaleMin(is, b, 4, sm);
            float d1 = d * sm[0];
            float m1 = min * sm[1];
            scaleMin(is + 1, b, 4, sm);
            float d2 = d * sm[0];
            float m2 = min * sm[1];
            for (int l = 0; l < 32; l++) {
                int v = b[q + l] & 0x0F;
                if (qh >= 0 && (b[qh + l] & u1) != 0) {
                    v += 16;
                }
                y[out++] = d1 * v - m1;
            }
            for (int l = 0; l < 32; l++) {
                int v = (b[q + l] & 0xFF) >> 4;
                if (qh >= 0 && (b[qh + l] & u2) != 0) {
                    v += 16;
                }
                y[out++] = d2 * v - m2;
            }
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    static void q6K(byte[] b, float[] y) {
        float d = f16(b, 208);
        for (int n = 0, ql = 0, qh = 128, sc = 192; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = b[qh + l] & 0xFF;
                int lo = b[ql + l] & 0xFF;
                int hi = b[ql + l + 32] & 0xFF;
                int q1 = ((lo & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((hi & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((lo >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((hi >> 4) | (((h >> 6) & 3) << 4)) - 32;
                y[n + l] = d * b[sc + is] * q1;
                y[n + l + 32] = d * b[sc + is + 2] * q2;
                y[n + l + 64] = d * b[sc + is + 4] * q3;
                y[n + l + 96] = d * b[sc + is + 6] * q4;
            }
        }
    }
}
