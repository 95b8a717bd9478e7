package dev.tailor.tensor;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Finds non-finite values (NaN, ±infinity) in weights stored as F32, F16 or BF16, in place, at memory speed. A
 * value is non-finite exactly when its exponent bits are all ones, so the scan compares masked bit patterns with
 * the Vector API (F32 as ints, F16 and BF16 as shorts) and never widens to float. Its scalar twin is
 * {@link ScalarKernels#firstNonFinite}.
 */
public final class FiniteScan {
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final int F32_EXPONENT = 0x7F80_0000;
    private static final short F16_EXPONENT = 0x7C00;
    private static final short BF16_EXPONENT = 0x7F80;
    /** Vectors whose masks are OR-ed together before one test, so the loop has few branches. */
    private static final int UNROLL = 8;

    private FiniteScan() {
    }

    /**
     * The index of the first non-finite element of {@code data} (little-endian {@code dtype} values), or -1 when
     * all are finite.
     *
     * @throws IllegalArgumentException when {@code dtype} is not F32, F16 or BF16
     */
    public static long firstNonFinite(MemorySegment data, DType dtype) {
        return switch (dtype) {
            case F32 -> firstF32(data);
            case F16 -> firstHalf(data, F16_EXPONENT);
            case BF16 -> firstHalf(data, BF16_EXPONENT);
            default -> throw new IllegalArgumentException("not a float weight type: " + dtype);
        };
    }

    private static long firstF32(MemorySegment data) {
        long n = data.byteSize() / Integer.BYTES;
        long block = (long) I.length() * UNROLL;
        long i = 0;
        for (; i + block <= n; i += block) {
            VectorMask<Integer> any = I.maskAll(false);
            for (int u = 0; u < UNROLL; u++) {
                IntVector v = IntVector.fromMemorySegment(I, data, (i + (long) u * I.length()) * Integer.BYTES,
                        ByteOrder.LITTLE_ENDIAN);
                any = any.or(v.and(F32_EXPONENT).compare(VectorOperators.EQ, F32_EXPONENT));
            }
            if (any.anyTrue()) {
                return firstByBits(data, DType.F32, i, i + block);
            }
        }
        return firstByBits(data, DType.F32, i, n);
    }

    private static long firstHalf(MemorySegment data, short exponent) {
        DType dtype = exponent == F16_EXPONENT ? DType.F16 : DType.BF16;
        long n = data.byteSize() / Short.BYTES;
        long block = (long) S.length() * UNROLL;
        long i = 0;
        for (; i + block <= n; i += block) {
            VectorMask<Short> any = S.maskAll(false);
            for (int u = 0; u < UNROLL; u++) {
                ShortVector v = ShortVector.fromMemorySegment(S, data, (i + (long) u * S.length()) * Short.BYTES,
                        ByteOrder.LITTLE_ENDIAN);
                any = any.or(v.and(exponent).compare(VectorOperators.EQ, exponent));
            }
            if (any.anyTrue()) {
                return firstByBits(data, dtype, i, i + block);
            }
        }
        return firstByBits(data, dtype, i, n);
    }

    /** The first element in {@code [from, to)} whose exponent bits are all ones, or -1. */
    private static long firstByBits(MemorySegment data, DType dtype, long from, long to) {
        for (long i = from; i < to; i++) {
            boolean nonFinite = switch (dtype) {
                case F32 -> (data.getAtIndex(Numerics.I32_LE, i) & F32_EXPONENT) == F32_EXPONENT;
                case F16 -> (data.getAtIndex(Numerics.I16_LE, i) & F16_EXPONENT) == F16_EXPONENT;
                default -> (data.getAtIndex(Numerics.I16_LE, i) & BF16_EXPONENT) == BF16_EXPONENT;
            };
            if (nonFinite) {
                return i;
            }
        }
        return -1;
    }
}
