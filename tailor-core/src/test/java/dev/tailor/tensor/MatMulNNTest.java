package dev.tailor.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vectorized {@code X·W} against its scalar twin on awkward shapes and offsets, bit for bit: the twin performs
 * the tiles' fused multiply-adds in their order.
 */
class MatMulNNTest {

    @ParameterizedTest
    @CsvSource({"1,1,1", "1,7,17", "7,17,64", "17,1023,7", "3,64,33", "9,5,1023", "2,100,48", "5,0,9",
            "8,256,1536", "64,64,255", "300,96,40"})
    void matchesScalarTwin(int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(m * 31L + k * 7L + n);
        int xOff = 3;
        int wOff = 5;
        float[] x = new float[xOff + m * k];
        float[] w = new float[wOff + k * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextDouble(-1, 1);
        }
        float[] fast = new float[2 + m * n];
        float[] slow = new float[2 + m * n];
        MatMulNN.matmul(x, xOff, m, k, w, wOff, n, fast, 2);
        MatMulNN.matmulScalar(x, xOff, m, k, w, wOff, n, slow, 2);
        for (int i = 0; i < fast.length; i++) {
            assertEquals(slow[i], fast[i], "element " + i);
        }
        assertEquals(0f, fast[0]);
    }

    @ParameterizedTest
    @CsvSource({"1,1,1", "1,7,17", "7,17,64", "17,1023,7", "9,5,1023", "40,100,48", "8,256,1536", "64,200,64"})
    void addMatchesScalarTwin(int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(m * 29L + k * 11L + n);
        float[] x = new float[m * k];
        float[] w = new float[k * n];
        float[] fast = new float[1 + m * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < fast.length; i++) {
            fast[i] = (float) rnd.nextDouble(-3, 3);
        }
        float[] slow = fast.clone();
        MatMulNN.matmulAdd(x, 0, m, k, w, 0, n, fast, 1);
        MatMulNN.matmulAddScalar(x, 0, m, k, w, 0, n, slow, 1);
        for (int i = 0; i < fast.length; i++) {
            assertEquals(slow[i], fast[i], "element " + i);
        }
    }

    /**
     * Strided blocks of larger matrices (an attention head's columns): only the block of y is written, the elements
     * between its rows keep their values, for both the overwriting and the accumulating product.
     */
    @ParameterizedTest
    @CsvSource({"1,1,1", "4,64,64", "5,33,17", "64,64,192", "7,130,47", "9,300,1600", "200,64,64"})
    void stridedBlocksMatchScalarTwin(int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(m * 13L + k * 5L + n);
        int ldx = k + 7;
        int ldw = n + 19;
        int ldy = n + 3;
        float[] x = random(rnd, 2 + m * ldx);
        float[] w = random(rnd, 1 + k * ldw);
        for (boolean add : new boolean[] {false, true}) {
            float[] fast = random(rnd, 4 + m * ldy);
            float[] slow = fast.clone();
            if (add) {
                MatMulNN.matmulAdd(x, 2, ldx, m, k, w, 1, ldw, n, fast, 4, ldy);
            } else {
                MatMulNN.matmul(x, 2, ldx, m, k, w, 1, ldw, n, fast, 4, ldy);
            }
            MatMulNN.matmulScalar(x, 2, ldx, m, k, w, 1, ldw, n, slow, 4, ldy, add);
            for (int i = 0; i < fast.length; i++) {
                assertEquals(slow[i], fast[i], "add=" + add + ", element " + i);
            }
        }
    }

    @Test
    void namesTheOperandThatIsTooShort() {
        float[] x = new float[4 * 10];
        float[] w = new float[10 * 8];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MatMulNN.matmul(x, 0, 10, 4, 10, w, 0, 9, 8, new float[32], 0, 8));
        assertTrue(e.getMessage().startsWith("w needs a [10, 8] block with row stride 9"), e.getMessage());
    }

    private static float[] random(SplittableRandom rnd, int size) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }
}
