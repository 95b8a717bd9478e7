package dev.tailor.tensor;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deterministic vector exp against Math.exp, and against its scalar twin bit for bit; argmax against its twin. */
class VectorMathTest {

    @Test
    void expIsAccurateAndEqualsItsScalarTwinBitForBit() {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] x = new float[4096];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextDouble(-87, 88);
        }
        x[0] = 0f;
        x[1] = -1e-30f;
        x[2] = 1f;
        float[] out = new float[x.length];
        int l = FloatVector.SPECIES_PREFERRED.length();
        for (int i = 0; i < x.length; i += l) {
            VectorMath.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i)).intoArray(out, i);
        }
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(VectorMath.exp(x[i])), Float.floatToIntBits(out[i]), "x = " + x[i]);
            worst = Math.max(worst, Math.abs(out[i] - Math.exp(x[i])) / Math.exp(x[i]));
        }
        assertTrue(worst < 3e-7, "worst relative error " + worst);
        assertEquals(1f, VectorMath.exp(0f));
        assertEquals(Float.MIN_NORMAL, VectorMath.exp(-200f), Float.MIN_NORMAL * 1e-3);
        assertTrue(Float.isFinite(VectorMath.exp(200f)));
    }

    @Test
    void sumAddsEveryLaneInAFixedTreeOrder() {
        var species = FloatVector.SPECIES_PREFERRED;
        float[] lanes = new float[species.length()];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = 1f + i * 1e-3f;
        }
        float[] level = lanes.clone();
        for (int width = level.length / 2; width >= 1; width /= 2) {
            for (int i = 0; i < width; i++) {
                level[i] = level[i] + level[i + width];
            }
        }
        assertEquals(Float.floatToIntBits(level[0]),
                Float.floatToIntBits(VectorMath.sum(FloatVector.fromArray(species, lanes, 0))));
    }

    @Test
    void argmaxPicksTheFirstLargestNumberAsItsScalarTwinDoes() {
        SplittableRandom rnd = new SplittableRandom(11);
        float[] specials = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f, 3f};
        int checked = 0;
        for (int len : new int[] {0, 1, 2, 7, 15, 16, 17, 31, 33, 64, 100, 49152}) {
            for (int trial = 0; trial < 40; trial++) {
                int off = rnd.nextInt(3);
                float[] x = new float[off + len + 2];
                // few distinct values, so that ties are common; some specials, some rows all NaN or all −∞
                int kind = trial % 8;
                for (int i = 0; i < x.length; i++) {
                    x[i] = kind == 6 ? Float.NaN : kind == 7 ? Float.NEGATIVE_INFINITY : rnd.nextInt(5) - 2f;
                    if (kind < 6 && rnd.nextInt(10) == 0) {
                        x[i] = specials[rnd.nextInt(specials.length)];
                    }
                }
                if (kind == 7 && len > 0) {
                    x[off + rnd.nextInt(len)] = Float.NaN;
                }
                int expected = ScalarKernels.argmax(x, off, len);
                assertEquals(expected, VectorMath.argmax(x, off, len), "length " + len + ", offset " + off
                        + ", kind " + kind);
                checked += expected >= 0 ? 1 : 0;
            }
        }
        assertTrue(checked > 300, "most rows have a number to choose: " + checked);
        float[] tied = new float[100];
        Arrays.fill(tied, 1f);
        tied[40] = 2f;
        tied[77] = 2f;
        assertEquals(40, VectorMath.argmax(tied, 0, 100));
        assertEquals(37, VectorMath.argmax(tied, 3, 97));
        assertEquals(-1, VectorMath.argmax(new float[] {Float.NaN, Float.NaN}, 0, 2));
    }
}
