package dev.tailor.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The vectorized {@code X·Wᵀ} for narrow W against its scalar twin: rank-8 tiles, odd rows, p tails, other widths. */
class NarrowMatMulTest {

    @ParameterizedTest
    @CsvSource({"2,16,8", "1,16,8", "3,17,8", "256,576,8", "255,1536,8", "7,100,8", "64,31,8", "9,64,4", "5,48,16",
            "33,576,3", "4,1,1", "0,16,8", "6,0,8"})
    void matchesScalarTwin(int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(m * 31L + k * 7L + n);
        int xOff = 3;
        int wOff = 5;
        float[] x = random(rnd, xOff + m * k);
        float[] w = random(rnd, wOff + n * k);
        float[] fast = new float[2 + m * n + 1];
        float[] slow = new float[2 + m * n + 1];
        fast[fast.length - 1] = 42f;
        NarrowMatMul.matmulTransposed(x, xOff, m, k, w, wOff, n, fast, 2);
        NarrowMatMul.matmulTransposedScalar(x, xOff, m, k, w, wOff, n, slow, 2);
        for (int i = 2; i < 2 + m * n; i++) {
            assertEquals(slow[i], fast[i], 1e-5 * Math.sqrt(k) + 1e-6, "element " + i);
        }
        assertEquals(0f, fast[0], "before the output");
        assertEquals(42f, fast[fast.length - 1], "after the output");
    }

    @Test
    void overwritesTheOutput() {
        SplittableRandom rnd = new SplittableRandom(5);
        float[] x = random(rnd, 4 * 32);
        float[] w = random(rnd, 8 * 32);
        float[] y = random(rnd, 4 * 8);
        float[] expected = new float[4 * 8];
        NarrowMatMul.matmulTransposed(x, 0, 4, 32, w, 0, 8, y, 0);
        NarrowMatMul.matmulTransposedScalar(x, 0, 4, 32, w, 0, 8, expected, 0);
        for (int i = 0; i < y.length; i++) {
            assertEquals(expected[i], y[i], 1e-5, "element " + i);
        }
    }

    @Test
    void namesTheShortOperand() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NarrowMatMul.matmulTransposed(new float[64], 0, 4, 16, new float[100], 0, 8, new float[32], 0));
        assertTrue(e.getMessage().startsWith("w has 100 floats; needs 128"), e.getMessage());
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }
}
