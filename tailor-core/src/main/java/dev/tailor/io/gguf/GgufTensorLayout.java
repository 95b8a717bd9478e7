package dev.tailor.io.gguf;

import dev.tailor.tensor.DType;
import dev.tailor.tensor.Quantization;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * How a Hugging Face tensor is stored in a GGUF file, as llama.cpp's converter and {@code llama-quantize} store it:
 * its GGUF name, its type for a file type, and its bytes (for llama and mistral the rows of Q and K interleaved into
 * llama.cpp's RoPE order, the inverse of what {@link GgufTensorSource} undoes).
 */
public final class GgufTensorLayout {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GgufTensorLayout() {
    }

    /** Reads one row of a tensor as floats. */
    @FunctionalInterface
    public interface Rows {
        /** Copies row {@code r} into {@code dst[0 .. cols)}. */
        void row(int r, float[] dst);
    }

    /**
     * The GGUF name of a Hugging Face tensor ({@code model.layers.3.self_attn.q_proj.weight} →
     * {@code blk.3.attn_q.weight}).
     *
     * @throws IllegalArgumentException when GGUF has no name for it
     */
    public static String ggufName(String huggingFace) {
        String name = GgufNames.gguf(huggingFace);
        if (name == null) {
            throw new IllegalArgumentException("tensor " + huggingFace + " has no GGUF name");
        }
        return name;
    }

    /** Whether llama.cpp stores the Q and K rows of architecture {@code arch} interleaved (llama, mistral). */
    public static boolean permutesQueryKey(String arch) {
        return GgufConfig.permutesQueryKey(arch);
    }

    /**
     * The heads whose rows are interleaved in GGUF tensor {@code gguf} of architecture {@code arch}: the query heads
     * for {@code attn_q}, the key/value heads for {@code attn_k}, else 0 (rows kept in order).
     */
    public static int permutedHeads(String arch, String gguf, int heads, int kvHeads) {
        if (!permutesQueryKey(arch) || !GgufNames.isQueryOrKey(gguf)) {
            return 0;
        }
        return GgufNames.isKey(gguf) ? kvHeads : heads;
    }

    /**
     * The type of a tensor in a file of {@code fileType}, as llama.cpp chooses it: vectors (norms, biases) stay F32;
     * in an F16 file matrices are F16 (the converter's {@code --outtype f16}); for Q8_0 and Q4_0,
     * {@code llama-quantize}'s default recipe: matrices take the file type, the output head (or the embedding when
     * it is tied) Q8_0, and a matrix whose rows are not whole 32-value blocks F16. {@code llama-quantize} makes a
     * Q4_0 file's output head Q6_K when its rows are whole 256-value super-blocks; Tailor writes Q8_0 there (the
     * choice {@code --output-tensor-type q8_0} makes), as it does when they are not.
     *
     * @param gguf     the GGUF tensor name
     * @param dims     its ggml dimensions (row length first)
     * @param fileType F32, F16, Q8_0 or Q4_0
     * @param tied     whether the model has no output head of its own (the embedding serves as one)
     */
    public static GgmlType tensorType(String gguf, long[] dims, GgmlType fileType, boolean tied) {
        if (dims.length < 2 || fileType == GgmlType.F32) {
            return GgmlType.F32;
        }
        if (fileType == GgmlType.F16) {
            return GgmlType.F16;
        }
        if (fileType != GgmlType.Q8_0 && fileType != GgmlType.Q4_0) {
            throw new IllegalArgumentException("cannot write GGUF files of type " + fileType
                    + " (F32, F16, Q8_0, Q4_0)");
        }
        if (gguf.endsWith("_norm.weight") || !gguf.endsWith("weight")) {
            return GgmlType.F32;
        }
        boolean head = gguf.equals("output.weight") || tied && gguf.equals("token_embd.weight");
        GgmlType type = head ? GgmlType.Q8_0 : fileType;
        return dims[0] % type.blockValues() == 0 ? type : GgmlType.F16;
    }

    /** {@code llama_ftype} of a file type ({@code general.file_type}): F32 0, F16 1, Q4_0 2, Q8_0 7. */
    public static int fileTypeId(GgmlType fileType) {
        return switch (fileType) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            default -> throw new IllegalArgumentException("cannot write GGUF files of type " + fileType);
        };
    }

    /**
     * The stored row of Hugging Face row {@code row} of a permuted Q or K matrix with {@code rowsPerHead} rows per
     * head: the converter reshapes each head's rows as [2, half] and stores them as [half, 2], so row {@code i} of
     * half {@code j} is stored at {@code 2i + j}.
     */
    public static long storedRow(long row, long rowsPerHead) {
        long half = rowsPerHead / 2;
        long head = row / rowsPerHead;
        long within = row % rowsPerHead;
        return head * rowsPerHead + 2 * (within % half) + within / half;
    }

    /**
     * Encodes a tensor of {@code rowCount} rows of {@code cols} values as {@code type} into {@code dst}, the rows of
     * each of {@code permutedHeads} heads interleaved when it is not 0 (row {@code i} of a head's first half is
     * stored at {@code 2i}, of its second half at {@code 2i + 1}).
     *
     * @throws IllegalArgumentException when the rows do not split into the heads' two halves, or {@code type} is not
     *                                  F32, F16, Q8_0 or Q4_0
     */
    public static void encode(Rows rows, int rowCount, int cols, int permutedHeads, GgmlType type,
                              MemorySegment dst) {
        if (permutedHeads != 0 && rowCount % (2 * permutedHeads) != 0) {
            throw new IllegalArgumentException(rowCount + " rows do not split into " + permutedHeads
                    + " heads of two RoPE halves");
        }
        long rowBytes = type.bytesFor(cols);
        float[] row = new float[cols];
        int rowsPerHead = permutedHeads == 0 ? 0 : rowCount / permutedHeads;
        for (int r = 0; r < rowCount; r++) {
            rows.row(r, row);
            long stored = permutedHeads == 0 ? r : storedRow(r, rowsPerHead);
            long at = stored * rowBytes;
            switch (type) {
                case F32 -> MemorySegment.copy(row, 0, dst, F32_LE, at, cols);
                case F16 -> {
                    for (int c = 0; c < cols; c++) {
                        dst.set(I16_LE, at + 2L * c, Float.floatToFloat16(row[c]));
                    }
                }
                case Q8_0 -> Quantization.quantizeRow(DType.Q8_0, row, 0, cols, dst, at);
                case Q4_0 -> Quantization.quantizeRow(DType.Q4_0, row, 0, cols, dst, at);
                default -> throw new IllegalArgumentException("cannot encode tensors as " + type);
            }
        }
    }
}
