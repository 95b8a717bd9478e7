package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fast backward products against their scalar twins on awkward shapes, with weights on the heap and
 * memory-mapped from a file in every float type; and both tied to the forward kernel by the adjoint
 * identities {@code <dY, X·Wᵀ> = <dY·W, X> = <dYᵀ·X, W>}.
 */
class LinearBackwardTest {

    @ParameterizedTest
    @CsvSource({"7,40,33", "13,600,576", "7,9000,40"})
    void inputGradAddAddsWhatInputGradWrites(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(m + n + k);
        float[] dy = new float[m * n];
        float[] w = new float[n * k];
        float[] dx = new float[m * k];
        for (float[] a : new float[][] {dy, w, dx}) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) rnd.nextDouble(-1, 1);
            }
        }
        float[] product = new float[m * k];
        LinearBackward.inputGrad(dy, m, WeightMatrix.of(w, n, k), product);
        float[] sum = dx.clone();
        LinearBackward.inputGradAdd(dy, m, WeightMatrix.of(w, n, k), sum);
        for (int i = 0; i < sum.length; i++) {
            assertEquals(dx[i] + product[i], sum[i], 1e-5 * Math.sqrt(n), "element " + i);
        }
    }

    /**
     * Within one reduction block the packed kernels compute a tile from zero and add it to Y last, through the
     * scratch tile, so adding is exactly {@code dx + product}: whole row tiles, the shorter tail tiles and a ragged
     * column panel alike.
     */
    @ParameterizedTest
    @CsvSource({"31,300,70", "45,64,96", "5,576,33"})
    void withinOneReductionBlockInputGradAddIsExactlyTheSum(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(31L * m + n + k);
        float[] dy = random(rnd, m * n);
        WeightMatrix w = WeightMatrix.of(random(rnd, n * k), n, k);
        float[] dx = random(rnd, m * k);
        float[] product = new float[m * k];
        LinearBackward.inputGrad(dy, m, w, product);
        float[] sum = dx.clone();
        LinearBackward.inputGradAdd(dy, m, w, sum);
        for (int i = 0; i < sum.length; i++) {
            assertEquals(Float.floatToRawIntBits(dx[i] + product[i]), Float.floatToRawIntBits(sum[i]),
                    "element " + i);
        }
    }

    @Test
    void aRowRangeOfAWeightIsAViewOfThoseRows() {
        float[] w = new float[10 * 3];
        for (int i = 0; i < w.length; i++) {
            w[i] = i;
        }
        WeightMatrix rows = WeightMatrix.of(w, 10, 3).rows(4, 7);
        assertEquals(3, rows.rows());
        assertEquals(3, rows.cols());
        assertEquals(12f, rows.get(0, 0));
        assertEquals(20f, rows.get(2, 2));
        float[] row = new float[5];
        rows.copyRow(1, row, 2);
        assertEquals("[0.0, 0.0, 15.0, 16.0, 17.0]", Arrays.toString(row));
        assertThrows(IllegalArgumentException.class, () -> WeightMatrix.of(w, 10, 3).rows(8, 11));
    }

    private static final int[] SIZES = {1, 7, 17, 1023};
    private static final int[] ROWS = {1, 7, 15, 17, 27, 64};

    @TempDir
    static Path dir;

    static Stream<Arguments> shapes() {
        List<Arguments> all = new ArrayList<>();
        for (int m : ROWS) {
            for (int n : SIZES) {
                for (int k : SIZES) {
                    all.add(Arguments.of(m, n, k));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @MethodSource("shapes")
    void inputGradMatchesScalarTwinForHeapAndMappedWeights(int m, int n, int k) throws IOException {
        SplittableRandom rnd = new SplittableRandom(m * 1_000_003L + n * 1009L + k);
        float[] dy = random(rnd, m * n);
        float[] values = random(rnd, n * k);
        List<WeightMatrix> weights = new ArrayList<>();
        weights.add(WeightMatrix.of(values, n, k));
        try (Arena arena = Arena.ofShared()) {
            for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                weights.add(mapped(arena, values, n, k, dtype));
            }
            for (WeightMatrix w : weights) {
                float[] fast = filled(m * k, Float.NaN);
                float[] slow = new float[m * k];
                LinearBackward.inputGrad(dy, m, w, fast);
                LinearBackward.inputGradScalar(dy, m, w, slow);
                assertClose(slow, fast, n, "dX with " + w.dtype() + " weights on " + w.data().isMapped());
            }
        }
    }

    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @MethodSource("shapes")
    void weightGradMatchesScalarTwinAndAccumulates(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(m * 7_919L + n * 104_729L + k);
        float[] dy = random(rnd, m * n);
        float[] x = random(rnd, m * k);
        float[] start = random(rnd, n * k);
        float[] fast = start.clone();
        float[] slow = start.clone();
        LinearBackward.weightGrad(dy, x, m, n, k, fast);
        LinearBackward.weightGradScalar(dy, x, m, n, k, slow);
        assertClose(slow, fast, m, "dW after one call");
        LinearBackward.weightGrad(dy, x, m, n, k, fast);
        LinearBackward.weightGradScalar(dy, x, m, n, k, slow);
        assertClose(slow, fast, m, "dW after two calls");
    }

    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @CsvSource({"1100,9,40", "600,70,33", "3,2000,65", "13,8200,70", "1,9000,33"})
    void longReductionsSpanSeveralBlocksAndTasks(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(m + n + k);
        float[] dy = random(rnd, m * n);
        float[] x = random(rnd, m * k);
        float[] fast = new float[n * k];
        float[] slow = new float[n * k];
        LinearBackward.weightGrad(dy, x, m, n, k, fast);
        LinearBackward.weightGradScalar(dy, x, m, n, k, slow);
        assertClose(slow, fast, m, "dW");
        WeightMatrix w = WeightMatrix.of(random(rnd, n * k), n, k);
        float[] dxFast = new float[m * k];
        float[] dxSlow = new float[m * k];
        LinearBackward.inputGrad(dy, m, w, dxFast);
        LinearBackward.inputGradScalar(dy, m, w, dxSlow);
        assertClose(dxSlow, dxFast, n, "dX");
    }

    @ParameterizedTest(name = "{3} m={0} n={1} k={2}")
    @CsvSource({"37,70,50,F32", "64,192,576,F32", "64,192,576,BF16", "17,1023,33,F16", "256,49,1536,BF16",
        "20,8193,37,BF16", "7,16384,64,F32"})
    void adjointIdentitiesTieBothToTheForwardKernel(int m, int n, int k, DType dtype) throws IOException {
        SplittableRandom rnd = new SplittableRandom(m * 31L + n * 17L + k);
        float[] x = random(rnd, m * k);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = mapped(arena, random(rnd, n * k), n, k, dtype);
            float[] y = new float[m * n];
            MatMul.matmulTransposed(x, m, w, y);
            // dY correlated with Y, so that <dY, Y> is far from zero and a dropped term shows
            float[] dy = random(rnd, m * n);
            for (int i = 0; i < dy.length; i++) {
                dy[i] += y[i];
            }
            float[] dx = new float[m * k];
            LinearBackward.inputGrad(dy, m, w, dx);
            float[] dw = new float[n * k];
            LinearBackward.weightGrad(dy, x, m, n, k, dw);
            float[] wv = new float[n * k];
            for (int j = 0; j < n; j++) {
                w.copyRow(j, wv, j * k);
            }
            double forward = dot(dy, y);
            double throughDx = dot(dx, x);
            double throughDw = dot(dw, wv);
            double scale = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double row = 0;
                    for (int c = 0; c < k; c++) {
                        row += Math.abs(x[i * k + c] * wv[j * k + c]);
                    }
                    scale += Math.abs(dy[i * n + j]) * row;
                }
            }
            double tol = 1e-6 * scale;
            assertTrue(Math.abs(forward) > 100 * tol, "the identity must not hold trivially: " + forward);
            assertEquals(forward, throughDx, tol, "<dY, X·Wᵀ> vs <dY·W, X>");
            assertEquals(forward, throughDw, tol, "<dY, X·Wᵀ> vs <dYᵀ·X, W>");
        }
    }

    @Test
    void emptyReductionZeroesDxAndEmptyBatchLeavesDwAlone() {
        float[] dx = filled(6, 5f);
        LinearBackward.inputGrad(new float[0], 2, WeightMatrix.of(new float[0], 0, 3), dx);
        assertEquals(0f, dx[0]);
        assertEquals(0f, dx[5]);
        float[] dw = filled(6, 5f);
        LinearBackward.weightGrad(new float[0], new float[0], 0, 2, 3, dw);
        assertEquals(5f, dw[3]);
    }

    @Test
    void shortArraysAreNamed() {
        WeightMatrix w = WeightMatrix.of(new float[12], 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearBackward.inputGrad(new float[6], 2, w, new float[7]));
        assertTrue(e.getMessage().startsWith("dx needs 8 floats ([2, 4])"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LinearBackward.weightGrad(new float[6], new float[8], 2, 3, 4, new float[11]));
        assertTrue(e.getMessage().startsWith("dw needs 12 floats ([3, 4])"), e.getMessage());
    }

    /** A weight written to a file in {@code dtype} and mapped back, starting at a 2-byte (unaligned) offset. */
    private static WeightMatrix mapped(Arena arena, float[] values, int rows, int cols, DType dtype)
            throws IOException {
        int offset = 2;
        ByteBuffer bytes = ByteBuffer.allocate(offset + values.length * dtype.byteSize())
                .order(ByteOrder.LITTLE_ENDIAN);
        bytes.position(offset);
        for (float v : values) {
            switch (dtype) {
                case F32 -> bytes.putFloat(v);
                case BF16 -> bytes.putShort(Numerics.floatToBf16(v));
                case F16 -> bytes.putShort(Numerics.floatToF16(v));
                default -> throw new IllegalArgumentException("not a weight type: " + dtype);
            }
        }
        Path file = Files.createTempFile(dir, "w-" + dtype, ".bin");
        Files.write(file, bytes.array());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new WeightMatrix(seg.asSlice(offset), dtype, rows, cols);
        }
    }

    private static void assertClose(float[] expected, float[] actual, int reduction, String what) {
        double tol = 1e-5 * Math.sqrt(reduction) + 1e-6;
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])),
                    what + ", element " + i);
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    private static float[] random(SplittableRandom rnd, int size) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }

    private static float[] filled(int size, float value) {
        float[] a = new float[size];
        Arrays.fill(a, value);
        return a;
    }
}
