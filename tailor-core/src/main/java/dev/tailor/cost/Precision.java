package dev.tailor.cost;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.tensor.DType;

import java.util.Arrays;

/**
 * How many bits a stored value takes: the float types Tailor reads, and the block-quantized types a frozen base is
 * often kept in (Tailor itself does not read them; the cost model prices them so a quantized run can be compared).
 */
public enum Precision {
    /** IEEE single precision. */
    F32(32),
    /** bfloat16. */
    BF16(16),
    /** IEEE half precision. */
    F16(16),
    /** llama.cpp's Q8_0: blocks of 32 signed 8-bit values with one F16 scale, 34 bytes per 32 values. */
    Q8_0(34 * 8 / 32.0),
    /** llama.cpp's Q4_0: blocks of 32 4-bit values with one F16 scale, 18 bytes per 32 values. */
    Q4_0(18 * 8 / 32.0),
    /**
     * QLoRA's 4-bit NormalFloat with double quantization: 4 bits a value, an 8-bit absmax per block of 64 and an F32
     * constant per 256 absmax blocks, {@code 4 + 8/64 + 32/(64·256) ≈ 4.127} bits (Dettmers et al., 2023, §3).
     */
    NF4(4 + 8.0 / 64 + 32.0 / (64 * 256));

    private final double bits;

    Precision(double bits) {
        this.bits = bits;
    }

    /** Bits per value, block scales included. */
    public double bits() {
        return bits;
    }

    /** Bytes {@code values} values take, rounded up to a whole byte. */
    public long bytes(double values) {
        return (long) Math.ceil(values * bits / 8);
    }

    /** Whether it is a float type Tailor computes with and saves (F32, BF16, F16). */
    public boolean isFloat() {
        return this == F32 || this == BF16 || this == F16;
    }

    /**
     * The safetensors type of a float precision.
     *
     * @throws IllegalStateException for a quantized one
     */
    public DType dtype() {
        return switch (this) {
            case F32 -> DType.F32;
            case BF16 -> DType.BF16;
            case F16 -> DType.F16;
            case Q8_0, Q4_0, NF4 -> throw new IllegalStateException(this + " is not a safetensors float type");
        };
    }

    /** The precision of a float type ({@code F32}, {@code BF16}, {@code F16}). */
    public static Precision of(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            default -> throw new IllegalArgumentException(dtype + " is not a float type");
        };
    }

    /**
     * The precision named {@code text} (any case), for option {@code option}.
     *
     * @param floatOnly only F32, BF16 and F16 are accepted
     * @throws InvalidOptionException naming {@code option} and the accepted names
     */
    public static Precision parse(String option, String text, boolean floatOnly) {
        for (Precision p : values()) {
            if (p.name().equalsIgnoreCase(text) && (p.isFloat() || !floatOnly)) {
                return p;
            }
        }
        String accepted = String.join(", ", Arrays.stream(values()).filter(p -> p.isFloat() || !floatOnly)
                .map(Precision::name).toList());
        throw new InvalidOptionException(option, option + " must be one of " + accepted + ", got \"" + text + "\"");
    }
}
