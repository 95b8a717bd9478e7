package dev.tailor.bench;

import dev.tailor.io.gguf.GgmlType;
import dev.tailor.io.gguf.GgufTensorLayout;
import dev.tailor.io.gguf.GgufWriter;
import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import dev.tailor.tensor.Quantization;
import dev.tailor.tensor.WeightMatrix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A model with random weights for benchmarks: matrices ~ N(0, 0.02²) stored in the shape's dtype, norms one; in
 * off-heap memory ({@link #build}), or written as a GGUF file and mapped from it as a downloaded model is
 * ({@link #mapped}).
 */
public final class RandomModel {
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

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

    /**
     * The model {@link #build} makes for {@code seed}, written to {@code file} as GGUF ({@link #writeGguf}) and loaded
     * from it memory-mapped, as {@code tailor generate --model FILE.gguf} loads a downloaded model: its Q4_0 and Q8_0
     * matrices then drop their mapped pages once regrouped for the integer products. Close it, then delete the file.
     */
    public static LlamaModel mapped(BenchShape shape, long seed, Path file) {
        writeGguf(shape, seed, file);
        return LlamaModel.load(file);
    }

    /**
     * Writes the weights {@link #weights} makes for {@code seed} as a GGUF file as llama.cpp lays one out
     * (architecture llama, GGUF tensor names, every matrix of the shape's type, Q and K rows in llama.cpp's RoPE
     * order), without a tokenizer. Each matrix is made as it is written, so the process never holds the whole model.
     */
    public static void writeGguf(BenchShape shape, long seed, Path file) {
        ModelConfig c = shape.config();
        GgmlType type = ggmlType(shape.dtype());
        SplittableRandom rnd = new SplittableRandom(seed);
        int d = c.hiddenSize();
        GgufWriter out = new GgufWriter()
                .putString("general.architecture", "llama")
                .putUint32("llama.context_length", c.maxPositions())
                .putUint32("llama.embedding_length", d)
                .putUint32("llama.feed_forward_length", c.intermediateSize())
                .putUint32("llama.block_count", c.numLayers())
                .putUint32("llama.attention.head_count", c.numHeads())
                .putUint32("llama.attention.head_count_kv", c.numKvHeads())
                .putFloat32("llama.attention.layer_norm_rms_epsilon", (float) c.rmsNormEps())
                .putFloat32("llama.rope.freq_base", (float) c.ropeTheta())
                .putUint32("tokenizer.ggml.bos_token_id", c.bosTokenId())
                .putUint32("tokenizer.ggml.eos_token_id", c.eosTokenIds().getFirst());
        // in the order weights() draws them, so that both make the same values
        addMatrix(out, "token_embd.weight", rnd, c.vocabSize(), d, shape.dtype(), type, 0);
        for (int l = 0; l < c.numLayers(); l++) {
            String blk = "blk." + l + ".";
            addOnes(out, blk + "attn_norm.weight", d);
            addMatrix(out, blk + "attn_q.weight", rnd, c.qDim(), d, shape.dtype(), type, c.numHeads());
            addMatrix(out, blk + "attn_k.weight", rnd, c.kvDim(), d, shape.dtype(), type, c.numKvHeads());
            addMatrix(out, blk + "attn_v.weight", rnd, c.kvDim(), d, shape.dtype(), type, 0);
            addMatrix(out, blk + "attn_output.weight", rnd, d, c.qDim(), shape.dtype(), type, 0);
            addOnes(out, blk + "ffn_norm.weight", d);
            addMatrix(out, blk + "ffn_gate.weight", rnd, c.intermediateSize(), d, shape.dtype(), type, 0);
            addMatrix(out, blk + "ffn_up.weight", rnd, c.intermediateSize(), d, shape.dtype(), type, 0);
            addMatrix(out, blk + "ffn_down.weight", rnd, d, c.intermediateSize(), shape.dtype(), type, 0);
        }
        addOnes(out, "output_norm.weight", d);
        try {
            out.write(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** A matrix drawn when the file is written, its rows stored in llama.cpp's order for {@code permutedHeads}. */
    private static void addMatrix(GgufWriter out, String name, SplittableRandom rnd, int rows, int cols, DType dtype,
                                  GgmlType type, int permutedHeads) {
        out.addTensor(name, type, new long[] {cols, rows}, dst -> {
            try (Arena arena = Arena.ofConfined()) {
                WeightMatrix w = matrix(arena, rnd, rows, cols, dtype);
                long rowBytes = w.rowBytes();
                for (int r = 0; r < rows; r++) {
                    long stored = permutedHeads == 0 ? r : GgufTensorLayout.storedRow(r, rows / permutedHeads);
                    MemorySegment.copy(w.data(), r * rowBytes, dst, stored * rowBytes, rowBytes);
                }
            }
        });
    }

    private static void addOnes(GgufWriter out, String name, int n) {
        float[] ones = ones(n);
        out.addTensor(name, GgmlType.F32, new long[] {n},
                dst -> MemorySegment.copy(ones, 0, dst, F32_LE, 0, n));
    }

    private static GgmlType ggmlType(DType dtype) {
        for (GgmlType t : GgmlType.values()) {
            if (t.dtype() == dtype) {
                return t;
            }
        }
        throw new IllegalArgumentException("GGUF has no type for " + dtype);
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
