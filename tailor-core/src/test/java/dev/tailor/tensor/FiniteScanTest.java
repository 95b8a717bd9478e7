package dev.tailor.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The word-at-a-time scan for non-finite weights against its scalar twin: every type, length, offset, pattern. */
class FiniteScanTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void everyHalfPatternIsJudgedAsItsWideningIs() {
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            for (int b = 0; b < 0x10000; b++) {
                MemorySegment one = MemorySegment.ofArray(new byte[2]);
                one.set(I16, 0, (short) b);
                assertEquals(ScalarKernels.firstNonFinite(one, dtype), FiniteScan.firstNonFinite(one, dtype),
                        dtype + " 0x" + Integer.toHexString(b));
            }
        }
    }

    @Test
    void matchesTheScalarTwinOnRandomTensorsWithPlantedNonFinites() {
        SplittableRandom rnd = new SplittableRandom(7);
        try (Arena arena = Arena.ofConfined()) {
            for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                for (int trial = 0; trial < 300; trial++) {
                    int n = trial < 200 ? trial : rnd.nextInt(1, 5000);
                    int offset = rnd.nextInt(4);
                    MemorySegment seg = arena.allocate((long) n * dtype.byteSize() + offset).asSlice(offset);
                    for (int i = 0; i < n; i++) {
                        put(seg, dtype, i, (float) rnd.nextGaussian() * 1000);
                    }
                    int planted = rnd.nextInt(4);
                    for (int p = 0; p < planted && n > 0; p++) {
                        float bad = switch (rnd.nextInt(3)) {
                            case 0 -> Float.NaN;
                            case 1 -> Float.POSITIVE_INFINITY;
                            default -> Float.NEGATIVE_INFINITY;
                        };
                        put(seg, dtype, rnd.nextInt(n), bad);
                    }
                    assertEquals(ScalarKernels.firstNonFinite(seg, dtype), FiniteScan.firstNonFinite(seg, dtype),
                            dtype + " n=" + n + " offset=" + offset);
                }
            }
        }
    }

    @Test
    void aValueTooLargeForF16IsInfiniteThere() {
        MemorySegment seg = MemorySegment.ofArray(new short[1000]);
        put(seg, DType.F16, 999, 70000f);
        assertEquals(999, FiniteScan.firstNonFinite(seg, DType.F16));
        assertEquals(-1, FiniteScan.firstNonFinite(seg.asSlice(0, 999 * 2), DType.F16));
    }

    /**
     * A K-quant block is finite exactly when its F16 super-block scales are (Q4_K, Q5_K: the scale and the minimum's
     * scale at its start; Q6_K: the scale at its end): a NaN or infinity planted in any of them names the block's
     * first element, one planted anywhere else (quantized values, sub-block scales) is not a float at all.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"Q4_K", "Q5_K", "Q6_K"})
    void aKQuantBlockIsNonFiniteWhereAScaleIs(DType type) {
        SplittableRandom rnd = new SplittableRandom(13);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = QuantMatMulTest.randomQuantized(type, 3, 2 * type.blockSize(), rnd, arena);
            MemorySegment seg = w.data();
            assertEquals(-1, FiniteScan.firstNonFinite(seg, type));
            long[] scales = type == DType.Q6_K ? new long[] {type.blockBytes() - 2} : new long[] {0, 2};
            long block = 3;
            for (long at : scales) {
                for (short bad : new short[] {(short) 0x7C00, (short) 0xFC00, (short) 0x7E00}) {
                    long where = block * type.blockBytes() + at;
                    short kept = seg.get(I16, where);
                    seg.set(I16, where, bad);
                    assertEquals(block * type.blockSize(), FiniteScan.firstNonFinite(seg, type),
                            type + " scale at byte " + at);
                    seg.set(I16, where, kept);
                }
            }
            long quantByte = type == DType.Q6_K ? 5 : 40;
            seg.set(I16, block * type.blockBytes() + quantByte, (short) 0x7C00);
            assertEquals(-1, FiniteScan.firstNonFinite(seg, type), type + ": quantized values are integers");
        }
    }

    private static void put(MemorySegment seg, DType dtype, long i, float v) {
        switch (dtype) {
            case F32 -> seg.setAtIndex(I32, i, Float.floatToRawIntBits(v));
            case F16 -> seg.setAtIndex(I16, i, Numerics.floatToF16(v));
            default -> seg.setAtIndex(I16, i, Numerics.floatToBf16(v));
        }
    }
}
