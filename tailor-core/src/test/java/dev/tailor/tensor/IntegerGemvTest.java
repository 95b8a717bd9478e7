package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Q4_0 and Q8_0 products in integers over 8-bit activations ({@link IntegerGemv}, {@link ActivationBlocks},
 * {@link InterleavedBlocks}): the activations' quantization value by value, the largest sums 16-bit lanes must hold,
 * the padded last group, non-finite activations, and the error against the float product. {@link QuantMatMulTest}
 * checks the kernels against their scalar twins over many shapes, and their batch invariance.
 */
class IntegerGemvTest {

    @Test
    void activationsAreRoundedHalfAwayFromZeroOnTheBlocksScale() {
        float[] x = new float[64];
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = -127f;
        x[4] = 0.49f;
        x[5] = 100.6f;
        // the second block: all zeros
        ActivationBlocks a = ActivationBlocks.of(x, 0, 1, 64);
        assertEquals(1f, a.d[0]);
        assertArrayEquals(new int[] {127, 3, -3, -127, 0, 101, 0}, Arrays.copyOf(a.q, 7));
        assertEquals(127 + 3 - 3 - 127 + 101, a.sums[0]);
        assertEquals(0f, a.d[1]);
        assertEquals(0, a.sums[1]);
        for (int c = 32; c < 64; c++) {
            assertEquals(0, a.q[c]);
        }
    }

    /**
     * Once a matrix is regrouped, its rows are read from the copy (an embedding lookup must not fault dropped pages
     * back in): the values its own bytes give, every row of a ragged last group included, with the bytes overwritten.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0"})
    void rowsAreReadFromTheRegroupedCopyOnceMade(DType type) {
        SplittableRandom rnd = new SplittableRandom(41);
        try (Arena arena = Arena.ofShared()) {
            int n = 2 * InterleavedBlocks.ROWS + 5;
            int k = 96;
            float[] v = new float[n * k];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) rnd.nextGaussian();
            }
            WeightMatrix w = WeightMatrix.quantize(WeightMatrix.of(v, n, k), type, arena);
            float[][] own = new float[n][k];
            for (int r = 0; r < n; r++) {
                w.copyRow(r, own[r], 0);
            }
            w.interleaved();
            w.data().fill((byte) 0x55);
            float[] row = new float[k + 3];
            for (int r = 0; r < n; r++) {
                w.copyRow(r, row, 3);
                assertArrayEquals(own[r], Arrays.copyOfRange(row, 3, 3 + k), "row " + r);
            }
            assertThrows(IndexOutOfBoundsException.class, () -> w.copyRow(n, row, 0));
        }
    }

    /**
     * Q8_0's groups four side by side ({@link IntegerGemv#FOUR_Q8_GROUPS}, Intel's cores) or two: every task of a
     * product, whatever the machine, gives its scalar twin's bits either way, over group counts that leave 0 to 3
     * groups past the quadruples and a ragged last group.
     */
    @ParameterizedTest(name = "four groups: {0}")
    @ValueSource(booleans = {true, false})
    void q8GroupsFourOrTwoSideBySideMatchTheTwin(boolean four) {
        SplittableRandom rnd = new SplittableRandom(23);
        int k = 96;
        try (Arena arena = Arena.ofShared()) {
            for (int n : new int[] {5, 32, 4 * 32, 5 * 32 + 7, 7 * 32, 11 * 32 + 1, 13 * 32}) {
                WeightMatrix w = QuantMatMulTest.randomQuantized(DType.Q8_0, n, k, rnd, arena)
                        .droppingMappedPages((from, to) -> { });
                for (int m : new int[] {1, 3}) {
                    float[] x = QuantMatMulTest.randoms(rnd, m * k);
                    float[] got = new float[m * n];
                    Gemv.Tasks tasks = IntegerGemv.tasks(ActivationBlocks.of(x, 0, m, k), m, w, got, 0, four);
                    for (int t = 0; t < tasks.count(); t++) {
                        tasks.task().accept(t);
                    }
                    float[] twin = new float[m * n];
                    ScalarKernels.matmulTransposedQ8Integer(x, m, w, twin);
                    QuantizationTest.assertBitsEqual(twin, got, "n=" + n + " m=" + m);
                }
            }
        }
    }

    @Test
    void activationsOfASecondRowStartAtItsOwnOffset() {
        float[] x = new float[3 + 64];
        x[3] = -0.5f;
        x[3 + 32 + 7] = 4f;
        x[3 + 32 + 8] = 1f;
        ActivationBlocks a = ActivationBlocks.of(x, 3, 2, 32);
        assertEquals(0.5f / 127, a.d[0]);
        assertEquals(-127, a.q[0]);
        assertEquals(4f / 127, a.d[1]);
        assertEquals(127, a.q[32 + 7]);
        assertEquals(32, a.q[32 + 8], "1 / (4 / 127) = 31.75 rounds to 32");
        assertThrows(IllegalArgumentException.class, () -> ActivationBlocks.of(x, 0, 1, 48));
    }

    @Test
    void vectorsQuantizeAsTheScalarReference() {
        SplittableRandom rnd = new SplittableRandom(12);
        int k = 32 * 40;
        float[] x = new float[3 + 2 * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-3, 4)));
        }
        // blocks whose scale is exactly 1 (amax 127), so x / d is x: halves, and 0.49999997, which |v| + 0.5 in
        // floats would round up
        float[] edges = {0.49999997f, -0.49999997f, 0.5f, -0.5f, 1.5f, -2.5f, 126.5f, -126.49999f, 63.500004f};
        for (int b = 0; b < 4; b++) {
            int at = 3 + b * 32;
            Arrays.fill(x, at, at + 32, 0.25f);
            x[at + 31] = b % 2 == 0 ? 127f : -127f;
            for (int e = 0; e < edges.length; e++) {
                x[at + e] = edges[(e + b) % edges.length];
            }
        }
        Arrays.fill(x, 3 + 4 * 32, 3 + 5 * 32, 0f);
        Arrays.fill(x, 3 + 5 * 32, 3 + 6 * 32, 1e-39f);
        x[3 + 6 * 32 + 4] = Float.NaN;
        x[3 + 7 * 32 + 9] = Float.NEGATIVE_INFINITY;
        ActivationBlocks vectors = ActivationBlocks.of(x, 3, 2, k);
        ActivationBlocks scalar = ActivationBlocks.scalar(x, 3, 2, k);
        assertArrayEquals(scalar.q, vectors.q);
        assertArrayEquals(scalar.q4Multipliers(), vectors.q4Multipliers());
        QuantizationTest.assertBitsEqual(scalar.d, vectors.d, "scales");
        assertArrayEquals(scalar.sums, vectors.sums, "sums");
        assertEquals(0, scalar.q[1], "0.49999997 rounds to 0");
        assertEquals(1, scalar.q[2], "0.5 rounds away from zero");
        for (int c = 5 * 32; c < 6 * 32; c++) {
            assertEquals(0, scalar.q[c], "a subnormal scale's block is zeros");
        }
        assertTrue(Float.isNaN(scalar.d[6]) && !Float.isFinite(scalar.d[7]));
    }

    /** A thread's reused blocks, after larger rows, hold what fresh blocks of the new rows hold, multipliers too. */
    @Test
    void reusedBlocksAfterLargerRowsMatchFreshOnes() {
        SplittableRandom rnd = new SplittableRandom(11);
        float[] large = gaussian(rnd, 3 * 96);
        float[] small = gaussian(rnd, 64);
        ActivationBlocks first = ActivationBlocks.reused(large, 0, 3, 96);
        int[] firstMultipliers = first.q4Multipliers().clone();
        ActivationBlocks again = ActivationBlocks.reused(small, 0, 1, 64);
        ActivationBlocks fresh = ActivationBlocks.of(small, 0, 1, 64);

        assertSame(first, again, "the thread's blocks are reused");
        assertArrayEquals(fresh.q, Arrays.copyOf(again.q, 64));
        QuantizationTest.assertBitsEqual(fresh.d, Arrays.copyOf(again.d, 2), "scales");
        assertArrayEquals(fresh.sums, Arrays.copyOf(again.sums, 2), "sums");
        assertArrayEquals(fresh.q4Multipliers(), Arrays.copyOf(again.q4Multipliers(), 64));
        assertFalse(Arrays.equals(Arrays.copyOf(firstMultipliers, 64), fresh.q4Multipliers()),
                "the multipliers were made again for the new values");
    }

    /**
     * The multipliers as a decoding step makes them (on 16-lane vectors where this machine has them) against the
     * scalar twin's, pair by pair, over rows of 24 blocks whose q cover the whole range, ±127 included.
     */
    @Test
    void q4MultipliersMatchTheScalarTwin() {
        SplittableRandom rnd = new SplittableRandom(23);
        int k = 24 * 32;
        for (int trial = 0; trial < 20; trial++) {
            float[] x = gaussian(rnd, 2 * k);
            for (int c = 0; c < x.length; c += 7) {
                x[c] *= trial % 3 == 0 ? 100f : 1f;
            }
            ActivationBlocks a = ActivationBlocks.of(x, 0, 2, k);
            int[] want = new int[2 * k];
            ActivationBlocks.q4MultipliersScalar(a.q, 2 * k, IntegerGemv.EXCHANGE_BYTES, want);
            assertArrayEquals(want, Arrays.copyOf(a.q4Multipliers(), 2 * k), "trial " + trial);
        }
    }

    private static float[] gaussian(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * 3);
        }
        return x;
    }

    /**
     * The multipliers' algebra, apart from any kernel, in both forms ({@link ActivationBlocks#q4Multipliers(int, int,
     * int, int, boolean, int[], int)}): for every 16-bit lane {@code s} (four nibbles), with {@code v = s >>> 4} and
     * {@code swap} exchanging its bytes, {@code s·m0 + v·m1 + swap(s)·m2 + swap(v)·m3}, and with shifts only
     * {@code s·m0 + (s >>> 4)·m1 + (s >>> 8)·m2 + (s >>> 12)·m3}, are the nibbles' products with their elements' q,
     * modulo 2^16, for activations of every sign and size; the blocks' own multipliers are this machine's form.
     */
    @ParameterizedTest(name = "byte exchanges: {0}")
    @ValueSource(booleans = {true, false})
    void q4MultipliersGiveTheNibblesProductsForEveryLane(boolean exchange) {
        SplittableRandom rnd = new SplittableRandom(5);
        float[] x = new float[32];
        int[] m = new int[4];
        for (int trial = 0; trial < 8; trial++) {
            for (int c = 0; c < 32; c++) {
                x[c] = trial == 0 ? (c % 2 == 0 ? 127f : -127f) : (float) rnd.nextGaussian();
            }
            ActivationBlocks a = ActivationBlocks.of(x, 0, 1, 32);
            int[] own = a.q4Multipliers();
            for (int j = 0; j < 16; j += 2) {
                int[] q = {a.q[j], a.q[j + 16], a.q[j + 1], a.q[j + 17]};
                ActivationBlocks.q4Multipliers(q[0], q[1], q[2], q[3], exchange, m, 0);
                if (exchange == IntegerGemv.EXCHANGE_BYTES) {
                    assertArrayEquals(m, Arrays.copyOfRange(own, 2 * j, 2 * j + 4), "pair " + j + ", trial " + trial);
                }
                for (int t = 0; t < 4; t++) {
                    assertEquals(m[t] >>> 16, m[t] & 0xFFFF, "a multiplier in both halves of its int");
                }
                short m0 = (short) m[0];
                short m1 = (short) m[1];
                short m2 = (short) m[2];
                short m3 = (short) m[3];
                for (int s = 0; s < 1 << 16; s++) {
                    int v = s >>> 4;
                    int got = exchange
                            ? s * m0 + v * m1 + swap(s) * m2 + swap(v) * m3
                            : s * m0 + v * m1 + (s >>> 8) * m2 + (s >>> 12) * m3;
                    int want = 0;
                    for (int t = 0; t < 4; t++) {
                        want += (s >>> 4 * t & 15) * q[t];
                    }
                    assertEquals(want & 0xFFFF, got & 0xFFFF, "lane " + s + ", pair " + j + ", trial " + trial);
                }
            }
        }
    }

    private static int swap(int lane) {
        return (lane & 0xFF) << 8 | lane >>> 8;
    }

    /** Nibbles of 0 and 15 against activations of ±amax: the largest 16-bit sums, which must not wrap. */
    @ParameterizedTest(name = "nibble {0}, sign {1}")
    @CsvSource({"15, 1", "15, -1", "0, 1", "0, -1"})
    void extremeSumsStayExact(int nibble, int sign) {
        int n = 70;
        int k = 128;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = q4(n, k, arena, () -> 0.5f, () -> nibble | nibble << 4);
            float[] x = new float[k];
            Arrays.fill(x, sign * 3f);
            float[] y = new float[n];
            MatMul.matmulTransposed(x, 1, w, y);
            // every weight is (nibble - 8)·0.5, every activation ±3 = ±127 · (3 / 127): exact in doubles
            double expected = k * (nibble - 8) * 0.5 * sign * 127 * (3.0 / 127);
            for (int j = 0; j < n; j++) {
                assertEquals(expected, y[j], Math.abs(expected) * 1e-6, "row " + j);
            }
        }
    }

    /**
     * Every byte pattern of Q4_0 quants against activations of ±amax in random signs: the multipliers of a 16-bit lane
     * ({@link ActivationBlocks#q4Multipliers()}) are taken modulo 2^16 and their products wrap, yet the sums are the
     * scalar twin's to the bit.
     */
    @Test
    void randomNibblesAgainstExtremeActivationsMatchTheTwin() {
        SplittableRandom rnd = new SplittableRandom(12);
        int n = 3 * InterleavedBlocks.ROWS + 7;
        int k = 256;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = q4(n, k, arena, () -> (float) (0.01 + rnd.nextDouble()), () -> rnd.nextInt(256));
            int m = 2;
            float[] x = new float[m * k];
            for (int c = 0; c < x.length; c++) {
                x[c] = rnd.nextBoolean() ? 5f : -5f;
            }
            float[] y = new float[m * n];
            MatMul.matmulTransposed(x, m, w, y);
            float[] twin = new float[m * n];
            integerTwin(x, m, w, twin);
            QuantizationTest.assertBitsEqual(twin, y, "vs integer twin");
        }
    }

    /**
     * Q8_0 quants of -128 or 127 against activations of ±amax: pairs of products reach 2·128·127 = 32512 in a 16-bit
     * lane, which must not wrap.
     */
    @ParameterizedTest(name = "quant {0}, sign {1}")
    @CsvSource({"-128, 1", "-128, -1", "127, 1", "127, -1"})
    void extremeQ8SumsStayExact(int quant, int sign) {
        int n = 70;
        int k = 128;
        try (Arena arena = Arena.ofShared()) {
            long bytes = n * DType.Q8_0.bytesFor(k);
            MemorySegment data = arena.allocate(bytes, 64);
            for (long b = 0; b < bytes / 34; b++) {
                data.set(Numerics.I16_LE, b * 34, Float.floatToFloat16(0.5f));
                for (int j = 0; j < 32; j++) {
                    data.set(ValueLayout.JAVA_BYTE, b * 34 + 2 + j, (byte) quant);
                }
            }
            WeightMatrix w = inIntegers(new WeightMatrix(data, DType.Q8_0, n, k));
            float[] x = new float[k];
            Arrays.fill(x, sign * 3f);
            float[] y = new float[n];
            MatMul.matmulTransposed(x, 1, w, y);
            double expected = k * quant * 0.5 * sign * 127 * (3.0 / 127);
            for (int j = 0; j < n; j++) {
                assertEquals(expected, y[j], Math.abs(expected) * 1e-6, "row " + j);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void aNonFiniteActivationMakesItsRowNaN(DType type) {
        SplittableRandom rnd = new SplittableRandom(3);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = inIntegers(WeightMatrix.quantize(
                    WeightMatrix.of(QuantMatMulTest.randoms(rnd, 40 * 64), 40, 64), type, arena));
            float[] x = QuantMatMulTest.randoms(rnd, 3 * 64);
            x[64 + 5] = Float.NaN;
            x[2 * 64 + 40] = Float.POSITIVE_INFINITY;
            float[] y = new float[3 * 40];
            MatMul.matmulTransposed(x, 3, w, y);
            for (int j = 0; j < 40; j++) {
                assertTrue(Float.isFinite(y[j]), "row 0 is finite");
                assertTrue(Float.isNaN(y[40 + j]), "row 1 has a NaN");
                assertTrue(Float.isNaN(y[80 + j]), "row 2 has an infinity");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void regroupedRowsKeepEveryByteAndScaleAndPadTheLastGroup(DType type) {
        SplittableRandom rnd = new SplittableRandom(9);
        int n = InterleavedBlocks.ROWS + 3;
        int quants = type.blockBytes() - 2;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = WeightMatrix.quantize(WeightMatrix.of(QuantMatMulTest.randoms(rnd, n * 96), n, 96),
                    type, arena);
            InterleavedBlocks g = InterleavedBlocks.of(w);
            assertEquals(2, g.groups);
            assertEquals(3, g.blocks);
            assertEquals(quants, g.blockQuants);
            for (int row = 0; row < 2 * InterleavedBlocks.ROWS; row++) {
                int group = row / InterleavedBlocks.ROWS;
                int r = row % InterleavedBlocks.ROWS;
                for (int b = 0; b < 3; b++) {
                    long at = row * w.rowBytes() + b * (long) type.blockBytes();
                    float scale = g.scale(group, b, r);
                    assertEquals(row < n ? Float.float16ToFloat(w.data().get(Numerics.I16_LE, at)) : 0f, scale);
                    for (int j = 0; j < quants; j++) {
                        // Q8_0: byte j of the rows side by side; Q4_0: bytes j and j + 1 (j even) of a row in a
                        // 16-bit lane, the rows' lanes side by side
                        long offset = type == DType.Q8_0
                                ? ((group * 3L + b) * quants + j) * InterleavedBlocks.ROWS + r
                                : ((group * 3L + b) * quants + j - j % 2) * InterleavedBlocks.ROWS + 2L * r + j % 2;
                        assertEquals(offset, g.quantOffset(group, b, j, r));
                        byte got = g.quants.get(ValueLayout.JAVA_BYTE, offset);
                        assertEquals(row < n ? w.data().get(ValueLayout.JAVA_BYTE, at + 2 + j) : 0, got);
                    }
                }
            }
            assertThrows(IllegalArgumentException.class, () -> InterleavedBlocks.of(w.dequantize(arena)));
        }
    }

    /** The regrouped copy keeps F16 scales its kernels widen as finite numbers, so it refuses any other. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void regroupingRefusesANonFiniteScaleNamingItsBlock(DType type) {
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = WeightMatrix.quantize(WeightMatrix.of(QuantMatMulTest.randoms(new SplittableRandom(4),
                    3 * 64), 3, 64), type, arena);
            w.data().set(Numerics.I16_LE, w.rowBytes() + type.blockBytes(), (short) 0x7C00);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InterleavedBlocks.of(w));
            assertEquals("block 1 of row 1 has a non-finite scale (Infinity)", e.getMessage());
        }
    }

    /**
     * A matrix of more than a megabyte drops its mapped pages as its copy is made, a megabyte of whole rows at a time
     * in order, then whole, so that its pages and its copy are never both resident.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void aLargeMatrixDropsItsPagesAsItsCopyIsMade(DType type) {
        int rows = 1200;
        int cols = 2048;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix plain = WeightMatrix.quantize(WeightMatrix.of(QuantMatMulTest.randoms(new SplittableRandom(8),
                    rows * cols), rows, cols), type, arena);
            List<long[]> drops = new ArrayList<>();
            WeightMatrix mapped = plain.droppingMappedPages((from, to) -> drops.add(new long[] {from, to}));
            mapped.prepareRegroupedCopy();
            long size = plain.data().byteSize();
            List<long[]> expected = new ArrayList<>(megabytesOfRows(size, plain.rowBytes()));
            expected.add(new long[] {0, size});
            assertDrops(expected, drops);
            mapped.prepareRegroupedCopy();
            assertEquals(expected.size(), drops.size(), "made once");
        }
    }

    /**
     * A matrix mapped from a file drops its pages once, when its products have made their regrouped copy; a slice
     * never drops the whole tensor's, and the products keep their bits.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void theRegroupedCopyDropsTheMappedPagesOnce(DType type) {
        SplittableRandom rnd = new SplittableRandom(6);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix plain = WeightMatrix.quantize(WeightMatrix.of(QuantMatMulTest.randoms(rnd, 70 * 64), 70, 64),
                    type, arena);
            int[] drops = new int[1];
            WeightMatrix mapped = plain.droppingMappedPages((from, to) -> {
                assertEquals(0, from);
                assertEquals(plain.data().byteSize(), to, "a matrix under a megabyte is dropped whole");
                drops[0]++;
            });
            assertEquals(plain, mapped);
            assertThrows(NullPointerException.class, () -> plain.droppingMappedPages(null));
            float[] x = QuantMatMulTest.randoms(rnd, 64);
            WeightMatrix slice = mapped.rows(0, 35);
            MatMul.matmulTransposed(x, 1, slice, new float[35]);
            assertEquals(0, drops[0], "a slice does not drop the tensor's pages");
            float[] y = new float[70];
            MatMul.matmulTransposed(x, 1, mapped, y);
            assertEquals(1, drops[0]);
            float[] again = new float[70];
            MatMul.matmulTransposed(x, 1, mapped, again);
            assertEquals(1, drops[0], "made once");
            float[] twin = new float[70];
            integerTwin(x, 1, plain, twin);
            assertArrayEquals(twin, y);
            assertArrayEquals(twin, again);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void theLastGroupWritesOnlyItsRows(DType type) {
        SplittableRandom rnd = new SplittableRandom(4);
        int n = 2 * InterleavedBlocks.ROWS + 5;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = inIntegers(WeightMatrix.quantize(
                    WeightMatrix.of(QuantMatMulTest.randoms(rnd, n * 64), n, 64), type, arena));
            float[] x = QuantMatMulTest.randoms(rnd, 2 * 64);
            float[] y = new float[2 * n + 11];
            Arrays.fill(y, 7f);
            MatMul.matmulTransposed(x, 0, 2, w, y, 3);
            float[] twin = new float[2 * n];
            integerTwin(x, 2, w, twin);
            assertArrayEquals(twin, Arrays.copyOfRange(y, 3, 3 + 2 * n));
            assertArrayEquals(new float[] {7f, 7f, 7f}, Arrays.copyOf(y, 3));
            for (int i = 3 + 2 * n; i < y.length; i++) {
                assertEquals(7f, y[i], "past the output at " + i);
            }
        }
    }

    /**
     * The byte ranges a regrouped copy drops as it reads a matrix of {@code size} bytes: a megabyte of whole rows at a
     * time, in order, all but the last (partial) one.
     */
    static List<long[]> megabytesOfRows(long size, long rowBytes) {
        long step = (1 << 20) / rowBytes * rowBytes;
        List<long[]> ranges = new ArrayList<>();
        for (long at = 0; at + step < size; at += step) {
            ranges.add(new long[] {at, at + step});
        }
        return ranges;
    }

    /** The drops made are the ones expected, in order. */
    static void assertDrops(List<long[]> expected, List<long[]> drops) {
        assertEquals(expected.size(), drops.size());
        for (int i = 0; i < drops.size(); i++) {
            assertArrayEquals(expected.get(i), drops.get(i), "drop " + i);
        }
    }

    /** {@code w} as {@link IntegerGemv} multiplies it: a Q8_0 matrix as if mapped from a file. */
    static WeightMatrix inIntegers(WeightMatrix w) {
        return w.dtype() == DType.Q8_0 ? w.droppingMappedPages((from, to) -> { }) : w;
    }

    /** The scalar twin of {@link IntegerGemv}'s product for W's type. */
    static void integerTwin(float[] x, int m, WeightMatrix w, float[] y) {
        if (w.dtype() == DType.Q4_0) {
            ScalarKernels.matmulTransposedQ4Integer(x, m, w, y);
        } else {
            ScalarKernels.matmulTransposedQ8Integer(x, m, w, y);
        }
    }

    /**
     * {@code got} within the error 8-bit activations allow of the float product {@code viaF32} over the same
     * (dequantized) weights: per block, half a step of its activations' scale times the block's sum of |w|, plus float
     * rounding.
     */
    static void assertWithinActivationRounding(float[] x, int m, WeightMatrix dequantized, float[] viaF32,
                                               float[] got) {
        int n = dequantized.rows();
        int k = dequantized.cols();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double bound = 0;
                double magnitude = 0;
                for (int b = 0; b < k / 32; b++) {
                    double amax = 0;
                    double wsum = 0;
                    for (int c = b * 32; c < b * 32 + 32; c++) {
                        amax = Math.max(amax, Math.abs(x[i * k + c]));
                        wsum += Math.abs(dequantized.get(j, c));
                        magnitude += Math.abs(x[i * k + c] * dequantized.get(j, c));
                    }
                    bound += amax / 254 * wsum;
                }
                double tolerance = bound * 1.001 + 1e-5 * magnitude + 1e-6;
                assertEquals(viaF32[i * n + j], got[i * n + j], tolerance, "row " + i + " output " + j);
            }
        }
    }

    /** A Q4_0 matrix block by block: its scale from {@code scale}, then its 16 quant bytes from {@code quantByte}. */
    private static WeightMatrix q4(int n, int k, Arena arena, Supplier<Float> scale, IntSupplier quantByte) {
        long bytes = n * DType.Q4_0.bytesFor(k);
        MemorySegment data = arena.allocate(bytes, 64);
        for (long b = 0; b < bytes / 18; b++) {
            data.set(Numerics.I16_LE, b * 18, Float.floatToFloat16(scale.get()));
            for (int j = 0; j < 16; j++) {
                data.set(ValueLayout.JAVA_BYTE, b * 18 + 2 + j, (byte) quantByte.getAsInt());
            }
        }
        return new WeightMatrix(data, DType.Q4_0, n, k);
    }
}
