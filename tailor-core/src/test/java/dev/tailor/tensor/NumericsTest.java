package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Round trips of the 16-bit float formats, and the vector widening against the scalar one for every pattern. */
class NumericsTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void everyBf16PatternRoundTrips() {
        for (int b = 0; b < 0x10000; b++) {
            float f = Numerics.bf16ToFloat((short) b);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Numerics.bf16ToFloat(Numerics.floatToBf16(f))));
            } else {
                assertEquals((short) b, Numerics.floatToBf16(f), "bf16 0x" + Integer.toHexString(b));
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3F80, Numerics.floatToBf16(Float.intBitsToFloat(0x3F808000)));
        assertEquals((short) 0x3F82, Numerics.floatToBf16(Float.intBitsToFloat(0x3F818000)));
        assertEquals((short) 0x3F81, Numerics.floatToBf16(Float.intBitsToFloat(0x3F808001)));
    }

    @Test
    void everyF16PatternRoundTrips() {
        for (int b = 0; b < 0x10000; b++) {
            float f = Numerics.f16ToFloat((short) b);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Numerics.f16ToFloat(Numerics.floatToF16(f))));
            } else {
                assertEquals((short) b, Numerics.floatToF16(f), "f16 0x" + Integer.toHexString(b));
            }
        }
        assertEquals(65504f, Numerics.f16ToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, Numerics.f16ToFloat((short) 0x0001));
    }

    @Test
    void vectorWideningMatchesScalarForEveryPattern() {
        MemorySegment seg = MemorySegment.ofArray(new short[0x10000]);
        for (int b = 0; b < 0x10000; b++) {
            seg.setAtIndex(I16, b, (short) b);
        }
        for (int i = 0; i < 0x10000; i += WeightVectors.L) {
            float[] bf = WeightVectors.bf16(seg, i).toArray();
            float[] hf = WeightVectors.f16(seg, i).toArray();
            float[] finite = WeightVectors.f16Finite(seg, i).toArray();
            for (int l = 0; l < WeightVectors.L; l++) {
                short bits = (short) (i + l);
                assertEquals(Float.floatToRawIntBits(Numerics.bf16ToFloat(bits)), Float.floatToRawIntBits(bf[l]),
                        "bf16 0x" + Integer.toHexString(i + l));
                float expected = Numerics.f16ToFloat(bits);
                if (Float.isNaN(expected)) {
                    // the scalar intrinsic quiets signalling NaNs, the bit trick keeps the payload as is
                    assertTrue(Float.isNaN(hf[l]), "f16 0x" + Integer.toHexString(i + l) + " must widen to NaN");
                } else {
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(hf[l]),
                            "f16 0x" + Integer.toHexString(i + l));
                }
                if (Float.isFinite(expected)) {
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(finite[l]),
                            "finite f16 0x" + Integer.toHexString(i + l));
                }
            }
        }
    }
}
