package dev.tailor.tensor;

/**
 * Element types that occur in model files: the per-element types of safetensors (with their names and sizes in
 * bytes) and ggml's block-quantized formats as GGUF files store them.
 *
 * <p>A block type packs {@link #blockSize()} consecutive elements of a row into {@link #blockBytes()} bytes (scales
 * and quantized values, little-endian, laid out as ggml's {@code block_*} structs); a row's length must be a multiple
 * of the block size. A per-element type is a block of one element, so {@link #bytesFor(long)} is right for both;
 * {@link #byteSize()} is only defined for per-element types.
 */
public enum DType {
    F32(4), F16(2), BF16(2), F64(8), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1),
    /** ggml {@code block_q8_0}: an F16 scale d, then 32 int8 q; value {@code q·d}. */
    Q8_0(32, 34),
    /**
     * ggml {@code block_q4_0}: an F16 scale d, then 16 bytes whose low nibbles are elements 0..15 and high nibbles
     * elements 16..31; value {@code (q - 8)·d}.
     */
    Q4_0(32, 18),
    /** ggml {@code block_q4_K}: super-blocks of 256 (F16 d, F16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles). */
    Q4_K(256, 144),
    /** ggml {@code block_q5_K}: {@link #Q4_K}'s layout with a 32-byte fifth bit plane before the nibbles. */
    Q5_K(256, 176),
    /** ggml {@code block_q6_K}: 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 int8 scales, F16 d. */
    Q6_K(256, 210);

    private final int blockSize;
    private final int blockBytes;

    DType(int byteSize) {
        this(1, byteSize);
    }

    DType(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /**
     * Bytes per element of a per-element type.
     *
     * @throws IllegalStateException for a block-quantized type, whose elements have no size of their own
     *                               (use {@link #bytesFor(long)})
     */
    public int byteSize() {
        if (isQuantized()) {
            throw new IllegalStateException(this + " is block-quantized: " + blockSize + " elements take "
                    + blockBytes + " bytes");
        }
        return blockBytes;
    }

    /** Elements per block: 1 for a per-element type, 32 for Q8_0/Q4_0, 256 for the K-quants. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block (for a per-element type, bytes per element). */
    public int blockBytes() {
        return blockBytes;
    }

    /**
     * Bytes that {@code elements} consecutive elements of a row take.
     *
     * @throws IllegalArgumentException if {@code elements} is not a whole number of blocks
     */
    public long bytesFor(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(this + " stores rows in blocks of " + blockSize + " elements; "
                    + elements + " is not a multiple");
        }
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }

    /** True for ggml's block-quantized types (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K). */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /**
     * True for the float element types the kernels read weights from and safetensors files hold as weights (F32,
     * F16, BF16). Block-quantized types are not weight types in this sense (they never occur in safetensors files,
     * and cannot be written to one); a {@link WeightMatrix} also takes them, see {@link #hasKernels()}.
     */
    public boolean isWeightType() {
        return this == F32 || this == F16 || this == BF16;
    }

    /**
     * True for the types {@link MatMul} and {@link LinearBackward#inputGrad} multiply in place: the float weight
     * types and the block-quantized ones (dequantized in registers for one row of X, into scratch rows or packed
     * panels for several, see {@link QuantGemv}).
     */
    public boolean hasKernels() {
        return isWeightType() || isQuantized();
    }

    /**
     * The type of a GGUF tensor by its {@code ggml_type} id (ggml.h): F32 0, F16 1, Q4_0 2, Q8_0 8, Q4_K 12, Q5_K 13,
     * Q6_K 14, I8 24, I16 25, I32 26, I64 27, F64 28, BF16 30.
     *
     * @throws IllegalArgumentException naming an id this enum has no type for
     */
    public static DType fromGgml(int id) {
        return switch (id) {
            case 0 -> F32;
            case 1 -> F16;
            case 2 -> Q4_0;
            case 8 -> Q8_0;
            case 12 -> Q4_K;
            case 13 -> Q5_K;
            case 14 -> Q6_K;
            case 24 -> I8;
            case 25 -> I16;
            case 26 -> I32;
            case 27 -> I64;
            case 28 -> F64;
            case 30 -> BF16;
            default -> throw new IllegalArgumentException("unsupported ggml tensor type " + id);
        };
    }

    /**
     * The type named by a safetensors header ({@code "F32"}, {@code "BF16"} …).
     *
     * @throws IllegalArgumentException naming the unknown type (block-quantized names included: safetensors has none)
     */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.name().equals(name) && !t.isQuantized()) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown dtype \"" + name + "\"");
    }
}
