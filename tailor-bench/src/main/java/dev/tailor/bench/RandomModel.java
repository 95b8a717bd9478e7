package dev.tailor.bench;

import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import dev.tailor.tensor.Quantization;
import dev.tailor.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A model with random weights in off-heap memory (as a memory-mapped file would be), for benchmarks:
 * matrices ~ N(0, 0.02²) stored in the shape's dtype, norms one.
 */
public final class RandomModel {
    private RandomModel() {
    }

    /** Builds the model of {@code shape}, seeded. */
    public static LlamaModel build(BenchShape shape, long seed) {
        return new LlamaModel(shape.config(), weights(shape, seed), null);
    }

    /** The weights of {@code shape} (tied embeddings), seeded, off-heap. */
    public static LlamaWeights weights(BenchShape shape, long seed) {
        ModelConfig c = shape.config();
        SplittableRandom rnd = new SplittableRandom(seed);
        Arena arena = Arena.ofAuto();
        int d = c.hiddenSize();
        WeightMatrix embed = matrix(arena, rnd, c.vocabSize(), d, shape.dtype());
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            layers.add(new LayerWeights(ones(d),
                    matrix(arena, rnd, c.qDim(), d, shape.dtype()),
                    matrix(arena, rnd, c.kvDim(), d, shape.dtype()),
                    matrix(arena, rnd, c.kvDim(), d, shape.dtype()),
                    matrix(arena, rnd, d, c.qDim(), shape.dtype()),
                    null, null, null, null, null, ones(d),
                    matrix(arena, rnd, c.intermediateSize(), d, shape.dtype()),
                    matrix(arena, rnd, c.intermediateSize(), d, shape.dtype()),
                    matrix(arena, rnd, d, c.intermediateSize(), shape.dtype())));
        }
        return new LlamaWeights(embed, layers, ones(d), embed);
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }

    private static WeightMatrix matrix(Arena arena, SplittableRandom rnd, int rows, int cols, DType dtype) {
        if (dtype.isQuantized()) {
            return quantized(arena, rnd, rows, cols, dtype);
        }
        long count = (long) rows * cols;
        MemorySegment seg = arena.allocate(count * dtype.byteSize(), 64);
        for (long i = 0; i < count; i++) {
            float v = (float) (gaussian(rnd) * 0.02);
            switch (dtype) {
                case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
                case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT, i, Numerics.floatToBf16(v));
                case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT, i, Numerics.floatToF16(v));
                default -> throw new IllegalArgumentException("benchmark weights must be F32, BF16, F16, Q8_0 or Q4_0, "
                        + "not " + dtype);
            }
        }
        return new WeightMatrix(seg, dtype, rows, cols);
    }

    /** Rows of N(0, 0.02²) values quantized as {@code llama-quantize} would ({@link Quantization#quantizeRow}). */
    private static WeightMatrix quantized(Arena arena, SplittableRandom rnd, int rows, int cols, DType dtype) {
        long rowBytes = dtype.bytesFor(cols);
        MemorySegment seg = arena.allocate(rows * rowBytes, 64);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) (gaussian(rnd) * 0.02);
            }
            Quantization.quantizeRow(dtype, row, 0, cols, seg, r * rowBytes);
        }
        return new WeightMatrix(seg, dtype, rows, cols);
    }

    private static double gaussian(SplittableRandom rnd) {
        double u1 = rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
