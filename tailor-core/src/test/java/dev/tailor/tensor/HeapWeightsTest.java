package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * An F32 W in a float array ({@link WeightMatrix#of}) is read through the array, not through segment loads
 * ({@link HeapGemv}, the packing of {@link PackedGemm} and {@link InputGradGemm}), and gives the bits of the same W in
 * native memory: in the batch-invariant GEMV, in the packed GEMM and in the input gradient, for slices at an offset
 * too, on shapes with a vector tail and with ragged tiles.
 */
class HeapWeightsTest {
    private static final int L = WeightVectors.L;

    @ParameterizedTest(name = "m={0} k={1} n={2}")
    @CsvSource({"1, 576, 37", "3, 100, 16", "5, 33, 13", "16, 64, 40", "40, 130, 70", "13, 7, 5"})
    void heapWeightsGiveTheBitsOfNativeOnes(int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(31L * m + 7L * k + n);
        float[] values = MatMulTest.randoms(rnd, n * k);
        WeightMatrix heap = WeightMatrix.of(values, n, k);
        WeightMatrix nativeW = nativeCopy(values, n, k);
        float[] x = MatMulTest.randoms(rnd, m * k);

        float[] invariantHeap = new float[m * n];
        float[] invariantNative = new float[m * n];
        MatMul.batchInvariant(() -> {
            MatMul.matmulTransposed(x, m, heap, invariantHeap);
            MatMul.matmulTransposed(x, m, nativeW, invariantNative);
            return null;
        });
        assertBitsEqual(invariantNative, invariantHeap, "batch-invariant X·Wᵀ");

        float[] expected = new float[m * n];
        ScalarKernels.matmulTransposedStreamingOrder(x, m, nativeW, expected, L);
        assertBitsEqual(expected, invariantHeap, "batch-invariant X·Wᵀ against the scalar twin");

        float[] fastHeap = new float[m * n];
        float[] fastNative = new float[m * n];
        MatMul.matmulTransposed(x, m, heap, fastHeap);
        MatMul.matmulTransposed(x, m, nativeW, fastNative);
        assertBitsEqual(fastNative, fastHeap, "X·Wᵀ (packed from " + MatMul.PACKED_MIN_ROWS + " rows)");

        float[] dy = MatMulTest.randoms(rnd, m * n);
        float[] dxHeap = new float[m * k];
        float[] dxNative = new float[m * k];
        LinearBackward.inputGrad(dy, m, heap, dxHeap);
        LinearBackward.inputGrad(dy, m, nativeW, dxNative);
        assertBitsEqual(dxNative, dxHeap, "dY·W");
    }

    @Test
    void aSliceAtAnOffsetReadsItsOwnFloats() {
        int n = 19;
        int k = 3 * L + 5;
        SplittableRandom rnd = new SplittableRandom(5);
        float[] values = MatMulTest.randoms(rnd, (n + 3) * k);
        MemorySegment slice = MemorySegment.ofArray(values).asSlice(3L * k * Float.BYTES, (long) n * k * Float.BYTES);
        assertSame(values, WeightVectors.heapFloats(slice));
        assertEquals(3 * k, WeightVectors.heapIndex(slice));
        WeightMatrix heap = new WeightMatrix(slice, DType.F32, n, k);
        float[] rest = java.util.Arrays.copyOfRange(values, 3 * k, values.length);
        WeightMatrix nativeW = nativeCopy(rest, n, k);
        for (int m : new int[] {1, 4, 20}) {
            float[] x = MatMulTest.randoms(rnd, m * k);
            float[] a = new float[m * n];
            float[] b = new float[m * n];
            MatMul.matmulTransposed(x, m, heap, a);
            MatMul.matmulTransposed(x, m, nativeW, b);
            assertBitsEqual(b, a, "slice, m=" + m);
        }
    }

    @Test
    void nativeAndOtherHeapSegmentsHaveNoFloatArray() {
        assertNull(WeightVectors.heapFloats(Arena.ofAuto().allocate(64)));
        assertNull(WeightVectors.heapFloats(MemorySegment.ofArray(new byte[64])));
        assertNull(WeightVectors.heapFloats(MemorySegment.ofArray(new float[16]).asSlice(2)));
    }

    private static WeightMatrix nativeCopy(float[] values, int rows, int cols) {
        MemorySegment seg = Arena.ofAuto().allocate((long) rows * cols * Float.BYTES, 64);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT, 0, rows * cols);
        return new WeightMatrix(seg, DType.F32, rows, cols);
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            int at = i;
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    () -> what + ": element " + at + " is " + actual[at] + ", expected " + expected[at]);
        }
    }
}
