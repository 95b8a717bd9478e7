package dev.tailor.tensor;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deterministic vector exp against Math.exp, and against its scalar twin bit for bit. */
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
}
