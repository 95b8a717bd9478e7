package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The products of an F32 or BF16 matrix mapped from a file ({@link PanelGemv} over its regrouped copy,
 * {@link WeightPanels}) against {@link ScalarKernels#matmulTransposedPanelOrder}, bit for bit, for row counts across
 * every tile and pass (1–9, 12, 13, 16, 17, 19, 33), row counts of W around the panel width and odd and even column
 * counts (BF16 loads two columns at a time); the copy's drops of the mapped pages, its rows, and the prefill's packing
 * from it.
 */
class PanelGemvTest {
    private static final int L = WeightVectors.L;

    static Stream<Arguments> shapes() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            for (int m : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 19, 24, 33}) {
                for (int k : new int[] {1, 2, 5, L + 3, 2 * L, 577}) {
                    for (int n : new int[] {1, L - 1, L, L + 1, 5 * L + 3, 9 * L}) {
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
        SplittableRandom rnd = new SplittableRandom(31L * m + 7L * k + n + dtype.ordinal());
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = mapped(arena, MatMulTest.randoms(rnd, n * k), dtype, n, k);
            float[] x = MatMulTest.randoms(rnd, m * k);
            float[] expected = new float[m * n];
            ScalarKernels.matmulTransposedPanelOrder(x, m, w, expected);
            // offsets in X and Y, and sentinels around Y's block: the last panel's masked stores write only its rows
            float[] xs = new float[3 + m * k];
            System.arraycopy(x, 0, xs, 3, m * k);
            float[] y = new float[5 + m * n + 4];
            Arrays.fill(y, 7f);
            MatMul.batchInvariant(() -> {
                MatMul.matmulTransposed(xs, 3, m, w, y, 5);
                return null;
            });
            for (int e = 0; e < expected.length; e++) {
                int at = e;
                assertEquals(Float.floatToRawIntBits(expected[e]), Float.floatToRawIntBits(y[5 + e]),
                        () -> dtype + " y[" + at / n + ", " + at % n + "] = " + y[5 + at] + ", scalar twin "
                                + expected[at]);
            }
            for (int e : new int[] {0, 1, 2, 3, 4, y.length - 4, y.length - 3, y.length - 2, y.length - 1}) {
                assertEquals(7f, y[e], "past the output at " + e);
            }
        }
    }

    @Test
    void aRowHasTheSameBitsAloneAsInABatch() {
        SplittableRandom rnd = new SplittableRandom(3);
        int k = 96;
        int n = 7 * L + 2;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = mapped(arena, MatMulTest.randoms(rnd, n * k), n, k);
            float[] x = MatMulTest.randoms(rnd, 19 * k);
            float[] batch = new float[19 * n];
            MatMul.matmulTransposed(x, 19, w, batch);
            for (int i = 0; i < 19; i++) {
                float[] alone = new float[n];
                MatMul.matmulTransposed(Arrays.copyOfRange(x, i * k, (i + 1) * k), 1, w, alone);
                assertArrayEquals(alone, Arrays.copyOfRange(batch, i * n, (i + 1) * n), "row " + i);
            }
        }
    }

    @Test
    void onlyFloatMatricesMappedFromAFileTakeThePanels() {
        try (Arena arena = Arena.ofShared()) {
            float[] values = MatMulTest.randoms(new SplittableRandom(5), 40 * 24);
            WeightMatrix mapped = mapped(arena, values, 40, 24);
            assertTrue(PanelGemv.handles(mapped));
            assertTrue(PanelGemv.handles(mapped(arena, values, DType.BF16, 40, 24)));
            assertFalse(PanelGemv.handles(mapped(arena, values, DType.F16, 40, 24)), "F16 keeps the streaming order");
            WeightMatrix held = WeightMatrix.of(values, 40, 24);
            assertFalse(PanelGemv.handles(held), "weights held in memory may change (training)");
            assertFalse(PanelGemv.handles(mapped.rows(0, 20)), "a slice does not drop the tensor's pages");
            float[] x = MatMulTest.randoms(new SplittableRandom(6), 24);
            float[] panels = new float[40];
            float[] streaming = new float[40];
            MatMul.matmulTransposed(x, 1, mapped, panels);
            MatMul.matmulTransposed(x, 1, held, streaming);
            float[] streamingTwin = new float[40];
            ScalarKernels.matmulTransposedStreamingOrder(x, 1, held, streamingTwin, L);
            assertArrayEquals(streamingTwin, streaming);
            assertArrayEquals(panels, panelTwin(x, 1, mapped));
            assertNotEquals(Arrays.toString(panels), Arrays.toString(streaming), "the two orders differ in bits");
        }
    }

    @Test
    void productsOfSeveralWeightsKeepEachWeightsOrder() {
        SplittableRandom rnd = new SplittableRandom(9);
        int k = 40;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix q = mapped(arena, MatMulTest.randoms(rnd, 50 * k), 50, k);
            WeightMatrix v = WeightMatrix.of(MatMulTest.randoms(rnd, 20 * k), 20, k);
            float[] x = MatMulTest.randoms(rnd, 3 * k);
            float[] yq = new float[3 * 50];
            float[] yv = new float[3 * 20];
            MatMul.matmulTransposedEach(x, 0, 3, new WeightMatrix[] {q, v}, new float[][] {yq, yv}, new int[] {0, 0});
            assertArrayEquals(panelTwin(x, 3, q), yq);
            float[] vTwin = new float[3 * 20];
            ScalarKernels.matmulTransposedStreamingOrder(x, 3, v, vTwin, L);
            assertArrayEquals(vTwin, yv);
        }
    }

    /**
     * A matrix of more than a megabyte drops its mapped pages before its copy is allocated (zeroed at once), as the
     * copy is made, a megabyte of whole rows at a time in order, and whole at the end, once; its rows are then read
     * from the copy.
     */
    @Test
    void theCopyDropsTheMappedPagesAsItIsMadeAndServesTheRows() {
        int rows = 700;
        int cols = 600;
        try (Arena arena = Arena.ofShared()) {
            float[] values = MatMulTest.randoms(new SplittableRandom(8), rows * cols);
            List<long[]> drops = new ArrayList<>();
            WeightMatrix w = mapped(arena, values, DType.F32, rows, cols,
                    (from, to) -> drops.add(new long[] {from, to}));
            w.prepareRegroupedCopy();
            long size = (long) rows * cols * Float.BYTES;
            List<long[]> expected = new ArrayList<>();
            expected.add(new long[] {0, size});
            expected.addAll(IntegerGemvTest.megabytesOfRows(size, w.rowBytes()));
            expected.add(new long[] {0, size});
            IntegerGemvTest.assertDrops(expected, drops);
            WeightPanels made = w.panels();
            w.prepareRegroupedCopy();
            assertSame(made, w.panels(), "made once");
            assertEquals(expected.size(), drops.size(), "dropped once");
            // the mapped bytes are overwritten: a row read after the copy is made comes from the copy
            w.data().fill((byte) 0);
            float[] row = new float[cols + 2];
            w.copyRow(rows - 1, row, 1);
            assertArrayEquals(Arrays.copyOfRange(values, (rows - 1) * cols, rows * cols),
                    Arrays.copyOfRange(row, 1, cols + 1));
        }
    }

    /**
     * A prompt's packed panels come from the copy once it is made (the mapped bytes are overwritten): the same floats
     * as packed from the matrix; so do its rows.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"F32", "BF16"})
    void thePrefillPacksFromTheCopy(DType dtype) {
        int n = 5 * L + 3;
        int k = 71;
        try (Arena arena = Arena.ofShared()) {
            float[] values = MatMulTest.randoms(new SplittableRandom(12), n * k);
            WeightMatrix w = mapped(arena, values, dtype, n, k);
            WeightMatrix held = new WeightMatrix(MemorySegment.ofArray(MatMulTest.encode(values, dtype)), dtype, n, k);
            w.panels();
            w.data().fill((byte) 0);
            int nr = PackedGemm.NR;
            for (int[] range : new int[][] {{0, n, 0, k}, {nr, n, 6, 60}, {nr, n, 5, 61}, {3, n - 2, 1, 33},
                {L, 3 * L + 1, 0, k}}) {
                int j0 = range[0];
                int j1 = range[1];
                int size = (j1 - j0 + nr - 1) / nr * range[3] * nr;
                float[] fromCopy = new float[size];
                float[] fromMatrix = new float[size];
                Arrays.fill(fromCopy, Float.NaN);
                PackedGemm.pack(w, j0, j1, range[2], range[3], fromCopy);
                PackedGemm.pack(held, j0, j1, range[2], range[3], fromMatrix);
                assertArrayEquals(fromMatrix, fromCopy, dtype + " rows [" + j0 + ", " + j1 + "), columns " + range[2]
                        + "+" + range[3]);
            }
            float[] row = new float[k];
            float[] heldRow = new float[k];
            w.copyRow(n - 1, row, 0);
            held.copyRow(n - 1, heldRow, 0);
            assertArrayEquals(heldRow, row, "a row is read from the copy");
            float[] x = MatMulTest.randoms(new SplittableRandom(13), 20 * k);
            float[] prefill = new float[20 * n];
            float[] expected = new float[20 * n];
            MatMul.matmulTransposed(x, 20, w, prefill);
            MatMul.matmulTransposed(x, 20, held, expected);
            assertArrayEquals(expected, prefill, "a prompt's product packs the same floats");
        }
    }

    /** {@code values} as an F32 matrix mapped from a file, whose page drops are ignored. */
    static WeightMatrix mapped(Arena arena, float[] values, int rows, int cols) {
        return mapped(arena, values, DType.F32, rows, cols);
    }

    /** {@code values} stored as {@code dtype} in a matrix mapped from a file, whose page drops are ignored. */
    static WeightMatrix mapped(Arena arena, float[] values, DType dtype, int rows, int cols) {
        return mapped(arena, values, dtype, rows, cols, (from, to) -> { });
    }

    private static WeightMatrix mapped(Arena arena, float[] values, DType dtype, int rows, int cols,
                                       WeightMatrix.MappedPages drops) {
        byte[] bytes = MatMulTest.encode(values, dtype);
        MemorySegment seg = arena.allocate(Math.max(1, bytes.length), 64);
        MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return new WeightMatrix(seg.asSlice(0, bytes.length), dtype, rows, cols).droppingMappedPages(drops);
    }

    private static float[] panelTwin(float[] x, int m, WeightMatrix w) {
        float[] y = new float[m * w.rows()];
        ScalarKernels.matmulTransposedPanelOrder(x, m, w, y);
        return y;
    }
}
