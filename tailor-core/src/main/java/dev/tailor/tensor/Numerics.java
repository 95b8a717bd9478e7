package dev.tailor.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Scalar conversions between float and the 16-bit float formats, and element loads by type. */
public final class Numerics {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Numerics() {
    }

    /** bfloat16 bits to float: the bits are the top half of a float32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float to bfloat16 bits, rounding to nearest even (as PyTorch does); NaN stays NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** IEEE half bits to float. */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** float to IEEE half bits (round to nearest even). */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    /** Element {@code index} of a segment holding {@code dtype} values, widened to float. */
    public static float load(MemorySegment data, DType dtype, long index) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32_LE, index);
            case BF16 -> bf16ToFloat(data.getAtIndex(I16_LE, index));
            case F16 -> f16ToFloat(data.getAtIndex(I16_LE, index));
            default -> throw new IllegalArgumentException("not a float weight type: " + dtype);
        };
    }
}
