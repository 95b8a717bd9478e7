package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential tests of {@link MatMul} and of both its paths (packed GEMM, streaming GEMV), whatever the row
 * count, against {@link ScalarKernels#matmulTransposed} on awkward shapes.
 */
class MatMulTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int m : new int[] {1, 2, 5, 7, 13, 15, 16, 17, 27}) {
                for (int k : new int[] {1, 7, 17, 64, 1023}) {
                    for (int n : new int[] {1, 7, 17, 1023}) {
                        cases.add(Arguments.of(dtype, m, k, n));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} m={1} k={2} n={3}")
    @MethodSource("shapes")
    void matchesScalarTwin(DType dtype, int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(31L * m + 7L * k + n);
        WeightMatrix w = new WeightMatrix(MemorySegment.ofArray(encode(randoms(rnd, n * k), dtype)), dtype, n, k);
        float[] x = randoms(rnd, m * k);
        assertMatches(x, m, w);
    }

    @Test
    void largeBlockedShapeMatches() {
        SplittableRandom rnd = new SplittableRandom(5);
        int m = 75;
        int k = 1100;
        int n = 300;
        WeightMatrix w = WeightMatrix.of(randoms(rnd, n * k), n, k);
        assertMatches(randoms(rnd, m * k), m, w);
    }

    @Test
    void packedGemmRowsDoNotDependOnTheirTile() {
        SplittableRandom rnd = new SplittableRandom(11);
        int k = 300;
        int n = 70;
        int all = 41;
        WeightMatrix w = WeightMatrix.of(randoms(rnd, n * k), n, k);
        float[] x = randoms(rnd, all * k);
        float[] expected = new float[all * n];
        PackedGemm.run(x, 0, all, w, expected, 0);
        for (int m : new int[] {1, 2, 5, 6, 13, 14, 15, 27}) {
            float[] y = new float[m * n];
            PackedGemm.run(x, 0, m, w, y, 0);
            for (int i = 0; i < m * n; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(y[i]),
                        "m=" + m + " row " + i / n + " col " + i % n);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void readsWeightsFromAMappedFile(DType dtype, @TempDir Path dir) throws IOException {
        SplittableRandom rnd = new SplittableRandom(11);
        int n = 70;
        int k = 100;
        byte[] payload = encode(randoms(rnd, n * k), dtype);
        int header = 13; // an odd offset, as after a safetensors header: loads must tolerate misalignment
        byte[] file = new byte[header + payload.length];
        System.arraycopy(payload, 0, file, header, payload.length);
        Path path = dir.resolve("weights.bin");
        Files.write(path, file);
        try (Arena arena = Arena.ofShared();
             FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, file.length, arena);
            WeightMatrix w = new WeightMatrix(mapped.asSlice(header, payload.length), dtype, n, k);
            for (int m : new int[] {1, 9}) {
                assertMatches(randoms(rnd, m * k), m, w);
            }
        }
    }

    @Test
    void offsetsReadAndWriteOnlyTheirBlocks() {
        SplittableRandom rnd = new SplittableRandom(3);
        int m = 9;
        int k = 33;
        int n = 40;
        WeightMatrix w = WeightMatrix.of(randoms(rnd, n * k), n, k);
        float[] x = randoms(rnd, m * k);
        float[] xBig = new float[5 + m * k + 4];
        System.arraycopy(x, 0, xBig, 5, x.length);
        float[] yBig = new float[3 + m * n + 2];
        Arrays.fill(yBig, -7f);
        MatMul.matmulTransposed(xBig, 5, m, w, yBig, 3);
        float[] expected = new float[m * n];
        ScalarKernels.matmulTransposed(x, m, w, expected);
        for (int i = 0; i < m * n; i++) {
            assertEquals(expected[i], yBig[3 + i], 1e-4f, "y[" + i + "]");
        }
        assertEquals(-7f, yBig[2]);
        assertEquals(-7f, yBig[3 + m * n]);
    }

    @Test
    void rejectsTooShortArraysNamingThem() {
        WeightMatrix w = WeightMatrix.of(new float[12], 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MatMul.matmulTransposed(new float[7], 2, w, new float[6]));
        assertTrue(e.getMessage().startsWith("x needs 8 floats ([2, 4])"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MatMul.matmulTransposed(new float[8], 2, w, new float[5]));
        assertTrue(e.getMessage().startsWith("y needs 6 floats ([2, 3])"), e.getMessage());
    }

    /** Compares with the scalar twin; the tolerance scales with √k and the size of the products summed. */
    private static void assertMatches(float[] x, int m, WeightMatrix w) {
        int n = w.rows();
        int k = w.cols();
        float[] expected = new float[m * n];
        ScalarKernels.matmulTransposed(x, m, w, expected);
        float[] viaMatMul = new float[m * n];
        float[] viaPacked = new float[m * n];
        float[] viaStreaming = new float[m * n];
        Arrays.fill(viaMatMul, Float.NaN);
        Arrays.fill(viaPacked, Float.NaN);
        Arrays.fill(viaStreaming, Float.NaN);
        MatMul.matmulTransposed(x, m, w, viaMatMul);
        PackedGemm.run(x, 0, m, w, viaPacked, 0);
        Gemv.run(x, 0, m, w, viaStreaming, 0);
        assertClose(x, w, m, expected, viaMatMul, "MatMul");
        assertClose(x, w, m, expected, viaPacked, "PackedGemm");
        assertClose(x, w, m, expected, viaStreaming, "Gemv");
    }

    private static void assertClose(float[] x, WeightMatrix w, int m, float[] expected, float[] actual, String path) {
        int n = w.rows();
        int k = w.cols();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sq = 0;
                for (int c = 0; c < k; c++) {
                    double p = (double) x[i * k + c] * w.get(j, c);
                    sq += p * p;
                }
                double tol = 1e-5 * Math.sqrt(k) * Math.sqrt(sq) + 1e-30;
                float e = expected[i * n + j];
                float a = actual[i * n + j];
                if (!(Math.abs(e - a) <= tol)) {
                    fail(path + " " + w.dtype() + " [" + m + "," + k + "]x[" + n + "," + k + "]ᵀ: y[" + i + "," + j + "] = " + a
                            + ", scalar twin " + e + " (tolerance " + tol + ")");
                }
            }
        }
    }

    static float[] randoms(SplittableRandom rnd, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    /** Little-endian bytes of {@code values} stored as {@code dtype}. */
    static byte[] encode(float[] values, DType dtype) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * dtype.byteSize()]);
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case F32 -> seg.setAtIndex(F32, i, values[i]);
                case BF16 -> seg.setAtIndex(I16, i, Numerics.floatToBf16(values[i]));
                case F16 -> seg.setAtIndex(I16, i, Numerics.floatToF16(values[i]));
                default -> throw new IllegalArgumentException(dtype.name());
            }
        }
        return seg.toArray(ValueLayout.JAVA_BYTE);
    }
}
