package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Q8_0 and Q4_0 kernels ({@link QuantGemv}, {@link QuantPack} under {@link MatMul} and {@link LinearBackward})
 * against their twins: bit for bit against the same path on the F32 {@link WeightMatrix#dequantize}d weights (the
 * dequantized values are exact, so the paths must agree exactly), against {@link ScalarKernels} (exactly for the
 * streaming order, within rounding for the packed one), and for batch invariance.
 */
class QuantMatMulTest {
    private static final DType[] TYPES = {DType.Q8_0, DType.Q4_0};

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        for (DType type : TYPES) {
            for (int k : new int[] {32, 96, 576, 4096}) {
                for (int n : new int[] {1, 3, 17, 65}) {
                    for (int m : new int[] {1, 2, 3, 4, 5, 11, 12, 13, 31, 70}) {
                        cases.add(Arguments.of(type, m, k, n));
                    }
                }
            }
            for (int m = 1; m <= 70; m++) {
                cases.add(Arguments.of(type, m, 160, 33));
            }
            cases.add(Arguments.of(type, 64, 1536, 127));
            cases.add(Arguments.of(type, 1, 1536, 1537));
            cases.add(Arguments.of(type, 19, 1184, 45));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} m={1} k={2} n={3}")
    @MethodSource("shapes")
    void forwardMatchesDequantizedF32AndScalarTwin(DType type, int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(31L * m + 7L * k + n);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix q = WeightMatrix.quantize(WeightMatrix.of(randoms(rnd, n * k), n, k), type, arena);
            WeightMatrix f = q.dequantize(arena);
            float[] x = randoms(rnd, m * k);
            float[] got = new float[m * n];
            float[] viaF32 = new float[m * n];
            MatMul.matmulTransposed(x, m, q, got);
            MatMul.matmulTransposed(x, m, f, viaF32);
            int kc = PackedGemm.ceilDiv(k, PackedGemm.ceilDiv(k, PackedGemm.KC_MAX));
            if (m >= MatMul.PACKED_MIN_ROWS && kc % 32 != 0) {
                // the quantized packing rounds its k blocks up to whole blocks, so the sums split differently
                assertClose(viaF32, got, k, "vs F32 path, other k blocks");
            } else {
                assertBitsEqual(viaF32, got, "vs F32 path");
            }
            if ((long) m * n * k <= 2_000_000) {
                float[] scalar = new float[m * n];
                if (m < MatMul.PACKED_MIN_ROWS) {
                    ScalarKernels.matmulTransposedStreamingOrder(x, m, q, scalar, WeightVectors.L);
                    assertBitsEqual(scalar, got, "vs streaming-order twin");
                } else {
                    ScalarKernels.matmulTransposed(x, m, q, scalar);
                    assertClose(scalar, got, k, "vs scalar twin");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void batchInvariant(DType type) {
        SplittableRandom rnd = new SplittableRandom(5);
        int k = 576;
        int n = 37;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix q = WeightMatrix.quantize(WeightMatrix.of(randoms(rnd, n * k), n, k), type, arena);
            float[] x = randoms(rnd, 70 * k);
            float[] alone = new float[70 * n];
            for (int i = 0; i < 70; i++) {
                float[] y = new float[n];
                float[] row = java.util.Arrays.copyOfRange(x, i * k, (i + 1) * k);
                MatMul.batchInvariant(() -> {
                    MatMul.matmulTransposed(row, 1, q, y);
                    return null;
                });
                System.arraycopy(y, 0, alone, i * n, n);
            }
            for (int m = 1; m <= 70; m++) {
                float[] y = new float[m * n];
                int rows = m;
                MatMul.batchInvariant(() -> {
                    MatMul.matmulTransposed(x, rows, q, y);
                    return null;
                });
                assertBitsEqual(java.util.Arrays.copyOf(alone, m * n), y, "m=" + m);
            }
        }
    }

    static Stream<Arguments> gradShapes() {
        List<Arguments> cases = new ArrayList<>();
        for (DType type : TYPES) {
            for (int[] s : new int[][] {{1, 32, 1}, {3, 64, 5}, {7, 96, 33}, {13, 576, 17}, {70, 160, 127},
                    {6, 1536, 576}, {5, 4096, 3}, {4, 64, 8200}}) {
                cases.add(Arguments.of(type, s[0], s[1], s[2]));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} m={1} k={2} n={3}")
    @MethodSource("gradShapes")
    void inputGradMatchesDequantizedF32AndScalarTwin(DType type, int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(17L * m + k + 3L * n);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix q = WeightMatrix.quantize(WeightMatrix.of(randoms(rnd, n * k), n, k), type, arena);
            WeightMatrix f = q.dequantize(arena);
            float[] dy = randoms(rnd, m * n);
            float[] got = randoms(rnd, m * k);
            float[] viaF32 = got.clone();
            LinearBackward.inputGradAdd(dy, m, q, got);
            LinearBackward.inputGradAdd(dy, m, f, viaF32);
            assertBitsEqual(viaF32, got, "accumulated, vs F32 path");
            LinearBackward.inputGrad(dy, m, q, got);
            LinearBackward.inputGrad(dy, m, f, viaF32);
            assertBitsEqual(viaF32, got, "vs F32 path");
            if ((long) m * n * k <= 2_000_000) {
                float[] scalar = new float[m * k];
                LinearBackward.inputGradScalar(dy, m, q, scalar);
                assertClose(scalar, got, n, "vs scalar twin");
            }
        }
    }

    static float[] randoms(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    private static void assertBitsEqual(float[] expected, float[] got, String what) {
        QuantizationTest.assertBitsEqual(expected, got, what);
    }

    /** Within float rounding of a {@code terms}-term sum of products of N(0, 1)-sized values. */
    private static void assertClose(float[] expected, float[] got, int terms, String what) {
        float tol = 1e-5f * terms + 1e-4f;
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], tol * Math.max(1f, Math.abs(expected[i])), what + " element " + i);
        }
    }
}
