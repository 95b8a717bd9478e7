package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link MatMul#matmulTransposedEach}: several weights of different types and shapes against the same X give, bit for
 * bit, what each one's own product gives, at few rows (one parallel loop over all the products), in batch-invariant
 * mode, and at many rows (one product after another).
 */
class MatMulEachTest {

    @ParameterizedTest(name = "m={0}")
    @ValueSource(ints = {1, 3, 5, 12, 40})
    void eachOutputHasTheBitsOfItsOwnProduct(int m) {
        SplittableRandom rnd = new SplittableRandom(m);
        int k = 192;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix f32 = WeightMatrix.of(QuantMatMulTest.randoms(rnd, 70 * k), 70, k);
            WeightMatrix q4 = WeightMatrix.quantize(WeightMatrix.of(QuantMatMulTest.randoms(rnd, 96 * k), 96, k),
                    DType.Q4_0, arena);
            WeightMatrix q8 = WeightMatrix.quantize(WeightMatrix.of(QuantMatMulTest.randoms(rnd, 33 * k), 33, k),
                    DType.Q8_0, arena);
            WeightMatrix q4b = WeightMatrix.quantize(WeightMatrix.of(QuantMatMulTest.randoms(rnd, 7 * k), 7, k),
                    DType.Q4_0, arena);
            WeightMatrix[] ws = {f32, q4, q8, q4b};
            float[] x = QuantMatMulTest.randoms(rnd, 2 + m * k);
            for (boolean invariant : new boolean[] {false, true}) {
                float[][] ys = new float[ws.length][];
                float[][] alone = new float[ws.length][];
                int[] offs = new int[ws.length];
                for (int i = 0; i < ws.length; i++) {
                    offs[i] = i;
                    ys[i] = new float[i + m * ws[i].rows()];
                    alone[i] = new float[i + m * ws[i].rows()];
                }
                Runnable products = () -> {
                    MatMul.matmulTransposedEach(x, 2, m, ws, ys, offs);
                    for (int i = 0; i < ws.length; i++) {
                        MatMul.matmulTransposed(x, 2, m, ws[i], alone[i], i);
                    }
                };
                if (invariant) {
                    MatMul.batchInvariant(() -> {
                        products.run();
                        return null;
                    });
                } else {
                    products.run();
                }
                for (int i = 0; i < ws.length; i++) {
                    QuantizationTest.assertBitsEqual(alone[i], ys[i], ws[i] + " batch invariant " + invariant);
                }
            }
        }
    }

    @ParameterizedTest(name = "m={0}")
    @ValueSource(ints = {1, 20})
    void weightsOfOtherColumnsOrMissingOutputsAreRefused(int m) {
        WeightMatrix a = WeightMatrix.of(new float[4 * 8], 4, 8);
        WeightMatrix b = WeightMatrix.of(new float[4 * 6], 4, 6);
        float[] x = new float[m * 8];
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmulTransposedEach(x, 0, m,
                new WeightMatrix[] {a, b}, new float[][] {new float[m * 4], new float[m * 4]}, new int[2]));
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmulTransposedEach(x, 0, m,
                new WeightMatrix[] {a, a}, new float[][] {new float[m * 4]}, new int[2]));
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmulTransposedEach(x, 0, m,
                new WeightMatrix[] {a, a}, new float[][] {new float[m * 4], new float[m * 4 - 1]}, new int[2]));
    }
}
