package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector loads of Q8_0 and Q4_0 weights, dequantized in-register to float at the preferred species width: a block of
 * 32 elements is {@link #CHUNKS} vectors of {@link WeightVectors#L} floats, chunk h holding elements
 * {@code [h·L, (h + 1)·L)}. A chunk's L bytes (Q8_0) or L nibbles (Q4_0, low nibbles of bytes 0..15 for elements
 * 0..15, high nibbles for 16..31) are loaded as one byte vector, converted to floats and multiplied by the block's
 * scale: the exact dequantized values ({@link Quantization}). (Nibbles are split after widening to int lanes: x86 has
 * no byte shifts, so a byte-lane shift compiles to a widen-shift-narrow sequence.)
 *
 * <p>Needs byte vectors of L lanes, so 8 ≤ L ≤ 16 (AVX2, AVX-512); on narrower machines ({@link #SUPPORTED} false)
 * the callers dequantize with the scalar code instead. Segments are native (see {@link WeightMatrix}).
 */
final class QuantVectors {
    /** Whether the preferred float vector is 8 or 16 lanes wide, as these loads need. */
    static final boolean SUPPORTED = L >= 8 && L <= 16;
    /** Vectors per 32-element block. */
    static final int CHUNKS = SUPPORTED ? Quantization.QK / L : 0;
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, Math.min(128, L * 8))));
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class,
            VectorShape.forBitSize(Math.max(64, Math.min(256, L * 16))));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Whether Q4_K's 4-bit sub-blocks dequantize by table lookup in {@link KQuantGemv}: where a vector holds 16
     * floats, it holds all 16 values a sub-block's nibbles can stand for.
     */
    static final boolean Q4_LOOKUP = L == 16;

    private QuantVectors() {
    }

    /**
     * Whether these loads dequantize {@code type} (Q8_0, Q4_0); the K-quants' packed sub-block scales take
     * {@link KQuantGemv} and {@link KQuantRows} instead.
     */
    static boolean inRegisters(DType type) {
        return type == DType.Q8_0 || type == DType.Q4_0;
    }

    /** The F16 scale of the block at byte {@code at}, widened. */
    static float scale(MemorySegment w, long at) {
        return Float.float16ToFloat(w.get(Numerics.I16_LE, at));
    }

    /** Chunk {@code h} of the Q8_0 block at byte {@code at}, times its scale {@code d}. */
    static FloatVector q8(MemorySegment w, long at, int h, float d) {
        ByteVector q = ByteVector.fromMemorySegment(B, w, at + 2 + h * L, LE);
        return ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(d);
    }

    /**
     * Chunk {@code h} of the Q4_0 block at byte {@code at} with scale {@code d}: {@code (q - 8)·d} computed as one
     * fused {@code q·d + (-8·d)}, which is exact (the result is representable, see {@link Quantization}), one
     * operation fewer than subtracting first.
     */
    static FloatVector q4(MemorySegment w, long at, int h, float d) {
        int e = h * L;
        IntVector b = (IntVector) ByteVector.fromMemorySegment(B, w, at + 2 + (e & 15), LE)
                .convertShape(VectorOperators.B2I, WeightVectors.I, 0);
        IntVector q = (e < 16 ? b : b.lanewise(VectorOperators.ASHR, 4)).and(0xF);
        return ((FloatVector) q.convert(VectorOperators.I2F, 0)).fma(d, -8f * d);
    }

    /**
     * One element of L rows of a regrouped Q8_0 matrix ({@link InterleavedBlocks}): their L quant bytes at byte
     * {@code at}, times their blocks' scales {@code d}, lane by lane as {@link #q8} computes them.
     */
    static FloatVector q8Rows(MemorySegment quants, long at, FloatVector d) {
        ByteVector q = ByteVector.fromMemorySegment(B, quants, at, LE);
        return ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(d);
    }

    /**
     * One element of L rows of a regrouped Q4_0 matrix ({@link InterleavedBlocks}): the nibble {@code shift} bits up
     * (0, 4, 8 or 12) in their L 16-bit lanes at byte {@code at}, {@code (q - 8)·d} as {@link #q4} computes it, with
     * {@code offset} = {@code -8·d} made once per block.
     */
    static FloatVector q4Rows(MemorySegment quants, long at, int shift, FloatVector d, FloatVector offset) {
        IntVector b = (IntVector) ShortVector.fromMemorySegment(S, quants, at, LE)
                .convertShape(VectorOperators.S2I, WeightVectors.I, 0);
        IntVector q = b.lanewise(VectorOperators.ASHR, shift).and(0xF);
        return ((FloatVector) q.convert(VectorOperators.I2F, 0)).fma(d, offset);
    }

    /** The L elements of row byte offset {@code row} from column {@code c} (a multiple of L) of a Q8_0/Q4_0 matrix. */
    static FloatVector at(MemorySegment w, DType type, long row, int c) {
        long at = row + (long) (c >>> 5) * type.blockBytes();
        int h = (c & 31) / L;
        float d = scale(w, at);
        return type == DType.Q8_0 ? q8(w, at, h, d) : q4(w, at, h, d);
    }
}
