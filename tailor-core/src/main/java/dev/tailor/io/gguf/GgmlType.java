package dev.tailor.io.gguf;

import dev.tailor.tensor.DType;

/**
 * The ggml tensor types Tailor reads from GGUF files, with their ids ({@code enum ggml_type} in ggml.h); each is the
 * {@link DType} of that id, whose block layout it has: a block holds {@link #blockValues} consecutive values of a row
 * in {@link #blockBytes} bytes.
 */
public enum GgmlType {
    F32(0),
    F16(1),
    Q4_0(2),
    Q8_0(8),
    Q4_K(12),
    Q5_K(13),
    Q6_K(14),
    BF16(30);

    /** Names of the ggml types Tailor does not read, by id, for messages. */
    private static final String[] OTHER_NAMES = {null, null, null, "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", null,
        "Q8_1", "Q2_K", "Q3_K", null, null, null, "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S",
        "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", null, "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8",
        "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4"};

    private final int id;
    private final DType dtype;

    GgmlType(int id) {
        this.id = id;
        this.dtype = DType.fromGgml(id);
    }

    /** The id stored in a GGUF tensor info. */
    public int id() {
        return id;
    }

    /** The element type of the tensor's values as they are stored. */
    public DType dtype() {
        return dtype;
    }

    /** Values per block (1 for the float types). */
    public int blockValues() {
        return dtype.blockSize();
    }

    /** Bytes per block. */
    public int blockBytes() {
        return dtype.blockBytes();
    }

    /** True for the plain float types Tailor's kernels read in place (F32, F16, BF16). */
    public boolean isFloat() {
        return blockValues() == 1;
    }

    /** The type of id {@code id}, or null when Tailor does not read it. */
    public static GgmlType byId(long id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** The ggml name of type id {@code id} (for messages), or {@code "unknown type <id>"}. */
    public static String nameOf(long id) {
        GgmlType t = byId(id);
        if (t != null) {
            return t.name();
        }
        return id >= 0 && id < OTHER_NAMES.length && OTHER_NAMES[(int) id] != null
                ? OTHER_NAMES[(int) id] : "unknown type " + id;
    }

    /** Bytes of {@code values} values laid out in rows of this type (whole blocks). */
    public long bytesFor(long values) {
        return Math.multiplyExact(values / blockValues(), (long) blockBytes());
    }
}
