package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link KQuantRows}' vector dequantization against {@link Quantization}'s scalar code (ggml's, bit for bit by
 * {@code QuantizationTest} and {@code GgufModelTest}'s hashes): every value of random super-blocks (every bit pattern
 * of the quantized values and sub-block scales, random finite F16 scales), bit for bit, whole rows and rows read from
 * a block offset.
 */
class KQuantRowsTest {
    @ParameterizedTest(name = "{0}")
    @EnumSource(names = {"Q4_K", "Q5_K", "Q6_K"})
    void vectorValuesAreTheScalarCodesBitForBit(DType type) {
        SplittableRandom rnd = new SplittableRandom(11 + type.ordinal());
        int rows = 9;
        int cols = 4 * Quantization.QK_K;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = QuantMatMulTest.randomQuantized(type, rows, cols, rnd, arena);
            float[] expected = new float[cols];
            float[] got = new float[cols + 3];
            for (int r = 0; r < rows; r++) {
                Quantization.dequantizeRow(type, w.data(), r * w.rowBytes(), cols, expected, 0);
                KQuantRows.dequantize(type, w.data(), r * w.rowBytes(), cols, got, 3);
                for (int c = 0; c < cols; c++) {
                    assertEquals(Float.floatToRawIntBits(expected[c]), Float.floatToRawIntBits(got[3 + c]),
                            type + " row " + r + " column " + c);
                }
                long second = r * w.rowBytes() + type.blockBytes();
                KQuantRows.dequantize(type, w.data(), second, 2 * Quantization.QK_K, got, 0);
                for (int c = 0; c < 2 * Quantization.QK_K; c++) {
                    assertEquals(Float.floatToRawIntBits(expected[Quantization.QK_K + c]),
                            Float.floatToRawIntBits(got[c]), type + " row " + r + " from block 1, column " + c);
                }
            }
        }
    }
}
