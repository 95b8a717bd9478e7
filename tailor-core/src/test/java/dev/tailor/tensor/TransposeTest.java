package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The register-tiled transpose against its scalar twin, bit for bit, on strided blocks with ragged edges. */
class TransposeTest {

    @ParameterizedTest
    @CsvSource({"16,16,false", "16,16,true", "64,256,false", "64,256,true", "17,33,false", "33,17,true", "1,40,false",
            "40,1,true", "0,5,false", "31,64,true", "1536,8,false", "576,8,true", "37,8,false", "200,3,true", "15,8,false",
            "48,16,false"})
    void matchesScalarTwin(int rows, int cols, boolean add) {
        SplittableRandom rnd = new SplittableRandom(rows * 100L + cols);
        int ldSrc = cols + 3;
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
