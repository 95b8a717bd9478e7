package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The block-quantized kernels (Q8_0, Q4_0 and the K-quants: {@link QuantGemv}, {@link QuantPack} under
 * {@link MatMul} and {@link LinearBackward}) against their twins: bit for bit against the same path on the F32
 * {@link WeightMatrix#dequantize}d weights (the dequantized values are exact, so the paths must agree exactly), against
 * {@link ScalarKernels} (exactly for the streaming order, within rounding for the packed one), and for batch
 * invariance. Q4_0's few-row products, and those of Q8_0 mapped from a file, in integers over 8-bit activations
 * ({@link IntegerGemv}), match their own twins bit for bit and the F32 path within the activations' rounding.
 */
class QuantMatMulTest {
    private static final DType[] TYPES = {DType.Q8_0, DType.Q4_0};
    private static final DType[] K_TYPES = {DType.Q4_K, DType.Q5_K, DType.Q6_K};

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
        for (DType type : K_TYPES) {
            for (int k : new int[] {256, 768, 1536}) {
                for (int n : new int[] {1, 5, 33}) {
                    for (int m : new int[] {1, 2, 4, 5, 12, 13, 40}) {
                        cases.add(Arguments.of(type, m, k, n));
                    }
                }
            }
        }
        return cases.stream();
    }

    /**
     * An {@code [n, k]} matrix of {@code type}: random quantized values and sub-block scales (every bit pattern is a
     * valid one) under random finite F16 super-block scales, for the block types {@link WeightMatrix#quantize} does
     * not write (the K-quants); Q8_0 and Q4_0 quantized from random floats.
     */
    static WeightMatrix randomQuantized(DType type, int n, int k, SplittableRandom rnd, Arena arena) {
        if (type == DType.Q8_0 || type == DType.Q4_0) {
            return WeightMatrix.quantize(WeightMatrix.of(randoms(rnd, n * k), n, k), type, arena);
        }
        long bytes = n * type.bytesFor(k);
        MemorySegment data = arena.allocate(bytes, 64);
        for (long i = 0; i < bytes; i++) {
            data.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        long[] scales = type == DType.Q6_K ? new long[] {type.blockBytes() - 2} : new long[] {0, 2};
        for (long b = 0; b < bytes / type.blockBytes(); b++) {
            for (long at : scales) {
                short half = Float.floatToFloat16((float) (0.01 * rnd.nextGaussian()));
                data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b * type.blockBytes() + at, half);
            }
        }
        return new WeightMatrix(data, type, n, k);
    }

    @ParameterizedTest(name = "{0} m={1} k={2} n={3}")
    @MethodSource("shapes")
    void forwardMatchesDequantizedF32AndScalarTwin(DType type, int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(31L * m + 7L * k + n);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix q = randomQuantized(type, n, k, rnd, arena);
            WeightMatrix f = q.dequantize(arena);
            float[] x = randoms(rnd, m * k);
            float[] got = new float[m * n];
            float[] viaF32 = new float[m * n];
            MatMul.matmulTransposed(x, m, q, got);
            MatMul.matmulTransposed(x, m, f, viaF32);
            if (m < MatMul.PACKED_MIN_ROWS && IntegerGemv.handles(q)) {
                IntegerGemvTest.assertWithinActivationRounding(x, m, f, viaF32, got);
                float[] twin = new float[m * n];
                IntegerGemvTest.integerTwin(x, m, q, twin);
                assertBitsEqual(twin, got, "vs integer twin");
                return;
            }
            int kc = PackedGemm.ceilDiv(k, PackedGemm.ceilDiv(k, PackedGemm.KC_MAX));
            if (m >= MatMul.PACKED_MIN_ROWS && kc % type.blockSize() != 0) {
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
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void batchInvariant(DType type) {
        SplittableRandom rnd = new SplittableRandom(5);
        int k = type.blockSize() == 32 ? 576 : 768;
        try (Arena arena = Arena.ofShared()) {
            assertBatchInvariant(randomQuantized(type, 37, k, rnd, arena), rnd);
        }
    }

    /** Q8_0 mapped from a file multiplies in integers, batch invariant too. */
    @Test
    void mappedQ8_0IsBatchInvariant() {
        SplittableRandom rnd = new SplittableRandom(15);
        try (Arena arena = Arena.ofShared()) {
            assertBatchInvariant(randomQuantized(DType.Q8_0, 37, 576, rnd, arena)
                            .droppingMappedPages((from, to) -> { }),
                    rnd);
        }
    }

    /** Every row of 70 has the same bits in batches of 1 to 70 rows, in batch-invariant mode. */
    private static void assertBatchInvariant(WeightMatrix q, SplittableRandom rnd) {
        int k = q.cols();
        int n = q.rows();
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

    static Stream<Arguments> mappedQ8Shapes() {
        List<Arguments> cases = new ArrayList<>();
        for (int k : new int[] {32, 96, 576, 4096}) {
            for (int n : new int[] {1, 3, 17, 65, 1537}) {
                for (int m : new int[] {1, 2, 5, 11}) {
                    cases.add(Arguments.of(m, k, n));
                }
            }
        }
        return cases.stream();
    }

    /**
     * Q8_0 mapped from a file (its pages dropped once regrouped) multiplies few rows in integers: bit for bit its
     * scalar twin, and the F32 path within the activations' rounding; held in memory, it keeps the float path.
     */
    @ParameterizedTest(name = "m={0} k={1} n={2}")
    @MethodSource("mappedQ8Shapes")
    void mappedQ8_0MultipliesInIntegers(int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(17L * m + 5L * k + n);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix plain = randomQuantized(DType.Q8_0, n, k, rnd, arena);
            WeightMatrix mapped = plain.droppingMappedPages((from, to) -> { });
            WeightMatrix f = plain.dequantize(arena);
            float[] x = randoms(rnd, m * k);
            float[] got = new float[m * n];
            float[] viaF32 = new float[m * n];
            MatMul.matmulTransposed(x, m, mapped, got);
            MatMul.matmulTransposed(x, m, f, viaF32);
            IntegerGemvTest.assertWithinActivationRounding(x, m, f, viaF32, got);
            float[] twin = new float[m * n];
            ScalarKernels.matmulTransposedQ8Integer(x, m, plain, twin);
            assertBitsEqual(twin, got, "vs integer twin");
            float[] held = new float[m * n];
            MatMul.matmulTransposed(x, m, plain, held);
            assertBitsEqual(viaF32, held, "held in memory: the float path");
        }
    }

    static Stream<Arguments> regroupedPackShapes() {
        List<Arguments> cases = new ArrayList<>();
        for (DType type : TYPES) {
            for (int[] s : new int[][] {{12, 32, 1}, {12, 64, 32}, {20, 576, 37}, {33, 1536, 96}, {14, 4096, 50},
                    {64, 96, 200}}) {
                cases.add(Arguments.of(type, s[0], s[1], s[2]));
            }
        }
        return cases.stream();
    }

    /**
     * A mapped Q4_0 or Q8_0 matrix packs many rows' panels from its regrouped copy, not from its bytes (whose pages
     * the copy replaced): the same bits as packing the bytes, still after the bytes are overwritten, and the pages
     * dropped once. Vectors of 4 floats have no byte loads to dequantize with, and pack from the bytes.
     */
    @ParameterizedTest(name = "{0} m={1} k={2} n={3}")
    @MethodSource("regroupedPackShapes")
    void mappedMatricesPackFromTheirRegroupedCopy(DType type, int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(29L * m + 7L * k + n);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix plain = randomQuantized(type, n, k, rnd, arena);
            AtomicInteger drops = new AtomicInteger();
            WeightMatrix mapped = plain.droppingMappedPages((from, to) -> {
                if (from == 0 && to == plain.data().byteSize()) {
                    drops.incrementAndGet();
                }
            });
            float[] x = randoms(rnd, m * k);
            float[] expected = new float[m * n];
            MatMul.matmulTransposed(x, m, plain, expected);
            float[] got = new float[m * n];
            MatMul.matmulTransposed(x, m, mapped, got);
            assertBitsEqual(expected, got, "packed from the regrouped copy");
            if (!QuantPack.PACKS_REGROUPED) {
                assertEquals(0, drops.get(), "packed from the bytes, so no copy made");
                return;
            }
            assertEquals(1, drops.get(), "pages dropped once");
            int cut = Math.min(n, PackedGemm.NR - 3);
            float[] fromCopy = new float[k * PackedGemm.NR];
            float[] fromBytes = new float[k * PackedGemm.NR];
            QuantPack.packTransposed(mapped, 0, cut, 0, k, fromCopy);
            QuantPack.packTransposed(plain, 0, cut, 0, k, fromBytes);
            assertBitsEqual(fromBytes, fromCopy, "a panel cut short of its group: zero past its rows");
            plain.data().fill((byte) 0x7F);
            Arrays.fill(got, Float.NaN);
            MatMul.matmulTransposed(x, m, mapped, got);
            assertBitsEqual(expected, got, "with the bytes overwritten");
            assertEquals(1, drops.get(), "pages dropped once");
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
        for (DType type : K_TYPES) {
            for (int[] s : new int[][] {{1, 256, 1}, {7, 256, 33}, {13, 768, 17}, {40, 512, 70}}) {
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
            WeightMatrix q = randomQuantized(type, n, k, rnd, arena);
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
