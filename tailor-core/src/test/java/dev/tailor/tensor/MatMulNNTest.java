package dev.tailor.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The vectorized {@code X·W} against its scalar twin on awkward shapes and offsets. */
class MatMulNNTest {

    @ParameterizedTest
    @CsvSource({"1,1,1", "1,7,17", "7,17,64", "17,1023,7", "3,64,33", "9,5,1023", "2,100,48"})
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
            assertEquals(slow[i], fast[i], 1e-5 * Math.sqrt(k) + 1e-6, "element " + i);
        }
        assertEquals(0f, fast[0]);
    }

    @ParameterizedTest
    @CsvSource({"1,1,1", "1,7,17", "7,17,64", "17,1023,7", "9,5,1023", "40,100,48"})
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
            assertEquals(slow[i], fast[i], 1e-5 * Math.sqrt(k) + 1e-6, "element " + i);
        }
    }
}
