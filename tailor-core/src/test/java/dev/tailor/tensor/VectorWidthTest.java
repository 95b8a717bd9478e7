package dev.tailor.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The kernels' choices by vector width. The build runs the tensor tests again at narrower widths (tailor-core's
 * {@code narrower-vectors} profile) and names the width of each such run in {@code tailor.test.vector-bits}; this
 * checks that the JVM flag took effect, so that run tests the paths of that width and not this machine's widest
 * ones again.
 */
class VectorWidthTest {

    @Test
    void kernelsChooseTheirPathsByTheVectorWidth() {
        int bits = WeightVectors.F.vectorBitSize();
        String expected = System.getProperty("tailor.test.vector-bits");
        if (expected != null) {
            assertEquals(Integer.parseInt(expected), bits, "the preferred float vector's bits in this run");
        }
        assertEquals(bits >= 256, QuantVectors.SUPPORTED, "in-register Q8_0/Q4_0 loads at " + bits + " bits");
        assertEquals(bits == 512 ? 14 : 4, PackedGemm.MR, "the packed GEMM's micro-tile rows at " + bits + " bits");
        assertEquals(2 * WeightVectors.L, PackedGemm.NR);
    }
}
