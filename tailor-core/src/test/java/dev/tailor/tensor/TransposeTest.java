package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The register-tiled transpose against its scalar twin, bit for bit, on strided blocks with ragged edges, and on
 * contiguous rows (no padding after each row of the source), as LoRA's factors are.
 */
class TransposeTest {

    @ParameterizedTest
    @CsvSource({"16,16,false,3", "16,16,true,3", "64,256,false,3", "64,256,true,3", "17,33,false,3", "33,17,true,3",
            "1,40,false,3", "40,1,true,3", "0,5,false,3", "31,64,true,3", "1536,8,false,3", "576,8,true,3",
            "37,8,false,3", "200,3,true,3", "15,8,false,3", "48,16,false,3", "1536,8,false,0", "576,8,true,0",
            "40,8,false,0", "15,8,true,0", "1536,4,false,0"})
    void matchesScalarTwin(int rows, int cols, boolean add, int srcPadding) {
        SplittableRandom rnd = new SplittableRandom(rows * 100L + cols);
        int ldSrc = cols + srcPadding;
        int ldDst = rows + 5;
        int srcOff = 7;
        int dstOff = 2;
        float[] src = new float[srcOff + rows * ldSrc];
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) rnd.nextDouble(-1, 1);
        }
        float[] fast = new float[dstOff + cols * ldDst + 4];
        for (int i = 0; i < fast.length; i++) {
            fast[i] = (float) rnd.nextDouble(-1, 1);
        }
        float[] slow = fast.clone();
        Transpose.transpose(src, srcOff, ldSrc, rows, cols, fast, dstOff, ldDst, add);
        Transpose.transposeScalar(src, srcOff, ldSrc, rows, cols, slow, dstOff, ldDst, add);
        assertArrayEquals(slow, fast);
    }
}
