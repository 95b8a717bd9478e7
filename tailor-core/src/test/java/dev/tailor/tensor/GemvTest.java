package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The streaming kernel against {@link ScalarKernels#matmulTransposedStreamingOrder}, its scalar twin with the same
 * operations in the same order, bit for bit: one row at a time and in every tile of {@link GemvTiles} (with the rows
 * and W rows that tiles leave over: m and n take every remainder modulo 4), for every weight type, on k around the
 * multiples of the vector length.
 */
class GemvTest {
    private static final int L = WeightVectors.L;

    static Stream<Arguments> shapes() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int m : new int[] {1, 2, 3, 4, 5, 6, 7, 9}) {
                for (int k : new int[] {1, L - 1, L, L + 1, 2 * L, 2 * L + 3, 4 * L, 5 * L + 7, 1023}) {
                    for (int n : new int[] {13, 14, 15, 16, 70}) {
                        cases.add(Arguments.of(dtype, m, k, n));
                    }
                }
            }
        }
        return cases.build();
    }

    @ParameterizedTest(name = "{0} m={1} k={2} n={3}")
    @MethodSource("shapes")
    void matchesTheScalarTwinBitForBit(DType dtype, int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(101L * m + 7L * k + 3L * n + dtype.ordinal());
        WeightMatrix w = new WeightMatrix(MemorySegment.ofArray(MatMulTest.encode(MatMulTest.randoms(rnd, n * k),
                dtype)), dtype, n, k);
        float[] x = MatMulTest.randoms(rnd, m * k);
        float[] expected = new float[m * n];
        ScalarKernels.matmulTransposedStreamingOrder(x, m, w, expected, L);
        float[] viaRun = new float[m * n];
        Arrays.fill(viaRun, Float.NaN);
        Gemv.run(x, 0, m, w, viaRun, 0);
        assertBitsEqual(expected, viaRun, dtype + " m=" + m + " k=" + k + ", split over tasks", n);
        // all of W in one range: its last tile of W rows is short unless 4 divides n (tasks of a W this small hold 4)
        float[] oneRange = new float[m * n];
        Arrays.fill(oneRange, Float.NaN);
        Gemv.rows(x, 0, m, w, oneRange, 0, 0, n);
        assertBitsEqual(expected, oneRange, dtype + " m=" + m + " k=" + k + ", one range", n);
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what, int n) {
        for (int e = 0; e < expected.length; e++) {
            int at = e;
            assertEquals(Float.floatToRawIntBits(expected[e]), Float.floatToRawIntBits(actual[e]),
                    () -> what + ": y[" + at / n + ", " + at % n + "] = " + actual[at] + ", scalar twin "
                            + expected[at]);
        }
    }
}
