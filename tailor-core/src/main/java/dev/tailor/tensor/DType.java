package dev.tailor.tensor;

/** Element types that occur in model files, with their safetensors names and sizes in bytes. */
public enum DType {
    F32(4), F16(2), BF16(2), F64(8), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the float types the kernels can read weights from (F32, F16, BF16). */
    public boolean isWeightType() {
        return this == F32 || this == F16 || this == BF16;
    }

    /**
     * The type named by a safetensors header ({@code "F32"}, {@code "BF16"} …).
     *
     * @throws IllegalArgumentException naming the unknown type
     */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown dtype \"" + name + "\"");
    }
}
