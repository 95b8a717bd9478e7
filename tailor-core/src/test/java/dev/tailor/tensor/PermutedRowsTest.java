package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A matrix whose file stores its rows in another order ({@link WeightMatrix#permuted}, GGUF's Q and K) multiplies,
 * reads rows and regroups exactly as the same matrix stored in order, and makes its bytes in order only when
 * {@link WeightMatrix#data} is read.
 */
class PermutedRowsTest {
    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"Q8_0", "Q4_0", "F32", "BF16"})
    void aPermutedMatrixGivesTheInOrderMatrixsBitsAndMakesItsCopyOnlyWhenRead(DType type) {
        int rows = 70;
        int cols = 96;
        SplittableRandom rnd = new SplittableRandom(11);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix f32 = WeightMatrix.of(QuantMatMulTest.randoms(rnd, rows * cols), rows, cols);
            WeightMatrix plain = type.isQuantized() ? WeightMatrix.quantize(f32, type, arena)
                    : inType(f32, type, arena);
            // a permutation of the rows: 31 and 70 have no common factor
            int[] storedRow = new int[rows];
            Arrays.setAll(storedRow, r -> (31 * r + 7) % rows);
            long rowBytes = plain.rowBytes();
            MemorySegment stored = arena.allocate(plain.data().byteSize(), 64);
            for (int r = 0; r < rows; r++) {
                MemorySegment.copy(plain.data(), r * rowBytes, stored, storedRow[r] * rowBytes, rowBytes);
            }
            int[] made = new int[1];
            List<long[]> drops = new ArrayList<>();
            WeightMatrix permuted = WeightMatrix.permuted(stored, r -> storedRow[r], () -> {
                made[0]++;
                return plain.data();
            }, type, rows, cols).droppingMappedPages((from, to) -> drops.add(new long[] {from, to}));
            WeightMatrix mapped = plain.droppingMappedPages((from, to) -> { });
            assertNotEquals(mapped, permuted);

            float[] row = new float[cols];
            float[] expectedRow = new float[cols];
            for (int r = 0; r < rows; r++) {
                permuted.copyRow(r, row, 0);
                plain.copyRow(r, expectedRow, 0);
                assertArrayEquals(expectedRow, row, "row " + r);
                assertEquals(plain.get(r, r % cols), permuted.get(r, r % cols));
            }
            for (int m : new int[] {1, 3, 40}) {
                float[] x = QuantMatMulTest.randoms(rnd, m * cols);
                float[] y = new float[m * rows];
                float[] expected = new float[m * rows];
                MatMul.matmulTransposed(x, m, permuted, y);
                MatMul.matmulTransposed(x, m, mapped, expected);
                assertArrayEquals(expected, y, m + " rows of X");
            }
            assertEquals(plain.hasRegroupedCopy() || mapped.hasRegroupedCopy(), permuted.hasRegroupedCopy());
            assertEquals(permuted.hasRegroupedCopy(), !drops.isEmpty(), "the stored bytes dropped when regrouped");
            for (long[] drop : drops) {
                assertArrayEquals(new long[] {0, stored.byteSize()}, drop, "whole: its rows are not in order");
            }
            if (type.isQuantized()) {
                assertEquals(0, made[0], "decoding and prefill read the regrouped copy, not bytes in order");
            }
            assertArrayEquals(plain.data().toArray(ValueLayout.JAVA_BYTE),
                    permuted.data().toArray(ValueLayout.JAVA_BYTE));
            permuted.data();
            assertEquals(1, made[0], "the bytes in order are made once");
        }
    }

    @Test
    void bytesInOrderOfTheWrongSizeAreRefused() {
        DType type = DType.Q8_0;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment stored = arena.allocate(2 * type.bytesFor(32), 64);
            WeightMatrix w = WeightMatrix.permuted(stored, r -> 1 - r, () -> stored.asSlice(1), type, 2, 32);
            IllegalStateException e = assertThrows(IllegalStateException.class, w::data);
            assertEquals("the rows in order are " + (stored.byteSize() - 1) + " bytes, not " + stored.byteSize(),
                    e.getMessage());
        }
    }

    /** {@code f32}'s values in {@code type} (F32 or BF16), in native memory. */
    private static WeightMatrix inType(WeightMatrix f32, DType type, Arena arena) {
        MemorySegment out = arena.allocate(f32.data().byteSize() / 4 * type.byteSize(), 64);
        for (long i = 0; i < (long) f32.rows() * f32.cols(); i++) {
            float v = f32.get((int) (i / f32.cols()), (int) (i % f32.cols()));
            if (type == DType.F32) {
                out.setAtIndex(Numerics.F32_LE, i, v);
            } else {
                out.setAtIndex(Numerics.I16_LE, i, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
        return new WeightMatrix(out, type, f32.rows(), f32.cols());
    }
}
