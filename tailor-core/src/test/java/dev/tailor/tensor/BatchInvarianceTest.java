package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batch invariance of the products a server runs for many requests at once: each row of an m-row product has, bit
 * for bit, the value the same row gets when multiplied alone, for every m from 1 to {@link #MAX_ROWS}, whatever the
 * rows are grouped into tiles and however the work splits over the kernel threads. Checked for
 * {@link MatMul#matmulTransposed} inside {@link MatMul#batchInvariant} (F32, BF16 and F16 weights),
 * {@link NarrowMatMul} and {@link MatMulNN} (always invariant); k and n are chosen around the vector length's
 * multiples so that every tail path runs.
 */
class BatchInvarianceTest {
    private static final int MAX_ROWS = 40;
    private static final int L = WeightVectors.L;

    static Stream<Arguments> weightShapes() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int k : new int[] {1, L - 1, L, 2 * L + 1, 4 * L, 5 * L - 1, 5 * L, 8 * L + 3, 577}) {
                for (int n : new int[] {3, 37}) {
                    cases.add(Arguments.of(dtype, k, n));
                }
            }
            cases.add(Arguments.of(dtype, 576, 160));
        }
        return cases.build();
    }

    @ParameterizedTest(name = "{0} k={1} n={2}")
    @MethodSource("weightShapes")
    void matmulRowsMatchTheRowAloneInsideBatchInvariant(DType dtype, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(17L * k + n + dtype.ordinal());
        WeightMatrix w = new WeightMatrix(MemorySegment.ofArray(MatMulTest.encode(MatMulTest.randoms(rnd, n * k),
                dtype)), dtype, n, k);
        float[] x = MatMulTest.randoms(rnd, MAX_ROWS * k);
        float[] alone = new float[MAX_ROWS * n];
        float[] one = new float[n];
        for (int i = 0; i < MAX_ROWS; i++) {
            float[] row = Arrays.copyOfRange(x, i * k, (i + 1) * k);
            MatMul.batchInvariant(() -> {
                MatMul.matmulTransposed(row, 1, w, one);
                return null;
            });
            System.arraycopy(one, 0, alone, i * n, n);
        }
        for (int m = 1; m <= MAX_ROWS; m++) {
            // the batch is rows [s, s + m) of x, so a row is checked at several positions within a batch
            int s = (MAX_ROWS - m) / 2;
            float[] y = new float[m * n];
            int rows = m;
            MatMul.batchInvariant(() -> {
                MatMul.matmulTransposed(x, s * k, rows, w, y, 0);
                return null;
            });
            assertRowsEqual(alone, s, y, m, n, "MatMul " + dtype + " k=" + k + " n=" + n);
        }
    }

    static Stream<Arguments> narrowShapes() {
        return IntStream.of(1, 15, 16, 17, 31, 64, 100, 576, 1537)
                .boxed()
                .flatMap(k -> IntStream.of(8, 4, 3, 16).mapToObj(n -> Arguments.of(k, n)));
    }

    @ParameterizedTest(name = "k={0} n={1}")
    @MethodSource("narrowShapes")
    void narrowRowsMatchTheRowAlone(int k, int n) {
        SplittableRandom rnd = new SplittableRandom(31L * k + n);
        float[] x = MatMulTest.randoms(rnd, MAX_ROWS * k);
        float[] w = MatMulTest.randoms(rnd, n * k);
        float[] alone = new float[MAX_ROWS * n];
        for (int i = 0; i < MAX_ROWS; i++) {
            NarrowMatMul.matmulTransposed(x, i * k, 1, k, w, 0, n, alone, i * n);
        }
        for (int m = 1; m <= MAX_ROWS; m++) {
            int s = (MAX_ROWS - m) / 2;
            float[] y = new float[m * n];
            NarrowMatMul.matmulTransposed(x, s * k, m, k, w, 0, n, y, 0);
            assertRowsEqual(alone, s, y, m, n, "NarrowMatMul k=" + k + " n=" + n);
        }
    }

    static Stream<Arguments> nnShapes() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (int k : new int[] {1, 7, 64, 300}) {
            for (int n : new int[] {1, L - 1, L, L + 3, 2 * L, 2 * L + 5, 5 * L + 1}) {
                cases.add(Arguments.of(k, n));
            }
        }
        // m·k·n large enough to split over the threads: by columns for few rows, by rows for many
        cases.add(Arguments.of(64, 1100));
        cases.add(Arguments.of(300, 43));
        return cases.build();
    }

    /**
     * Overwriting and accumulating products, with W and Y each either exactly as long as the operand (so a masked
     * column tail would pass the array's end) or followed by a vector of slack.
     */
    @ParameterizedTest(name = "k={0} n={1}")
    @MethodSource("nnShapes")
    void nnRowsMatchTheRowAlone(int k, int n) {
        SplittableRandom rnd = new SplittableRandom(13L * k + n);
        float[] x = MatMulTest.randoms(rnd, MAX_ROWS * k);
        float[] y0 = MatMulTest.randoms(rnd, MAX_ROWS * n);
        for (boolean add : new boolean[] {false, true}) {
            for (int wSlack : new int[] {0, L}) {
                float[] w = Arrays.copyOf(MatMulTest.randoms(rnd, k * n), k * n + wSlack);
                for (int ySlack : new int[] {0, L}) {
                    float[] alone = new float[MAX_ROWS * n];
                    for (int i = 0; i < MAX_ROWS; i++) {
                        float[] one = Arrays.copyOfRange(y0, i * n, (i + 1) * n + ySlack);
                        nn(add, x, i * k, 1, k, w, n, one);
                        System.arraycopy(one, 0, alone, i * n, n);
                    }
                    for (int m = 1; m <= MAX_ROWS; m++) {
                        int s = (MAX_ROWS - m) / 2;
                        float[] y = Arrays.copyOfRange(y0, s * n, (s + m) * n + ySlack);
                        nn(add, x, s * k, m, k, w, n, y);
                        assertRowsEqual(alone, s, y, m, n, "MatMulNN add=" + add + " W slack=" + wSlack
                                + " Y slack=" + ySlack + " k=" + k + " n=" + n);
                    }
                }
            }
        }
    }

    /** The invariance check itself can fail: a row that differs in its last bit is reported. */
    @Test
    void aDifferenceInOneBitIsReported() {
        float[] alone = {1f, 2f, 3f, 4f};
        float[] y = {3f, Math.nextUp(4f)};
        AssertionError e = assertThrows(AssertionError.class,
                () -> assertRowsEqual(alone, 1, y, 1, 2, "probe"));
        assertTrue(e.getMessage().contains("probe"), e.getMessage());
    }

    private static void nn(boolean add, float[] x, int xOff, int m, int k, float[] w, int n, float[] y) {
        if (add) {
            MatMulNN.matmulAdd(x, xOff, m, k, w, 0, n, y, 0);
        } else {
            MatMulNN.matmul(x, xOff, m, k, w, 0, n, y, 0);
        }
    }

    /** {@code y[i, :]} equals {@code alone[s + i, :]} bit for bit for every {@code i < m}. */
    private static void assertRowsEqual(float[] alone, int s, float[] y, int m, int n, String what) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float a = alone[(s + i) * n + j];
                float b = y[i * n + j];
                int row = s + i;
                int col = j;
                assertEquals(Float.floatToRawIntBits(a), Float.floatToRawIntBits(b),
                        () -> what + ": row " + row + " in a batch of " + m + ", column " + col + ": " + b
                                + ", alone " + a);
            }
        }
    }
}
