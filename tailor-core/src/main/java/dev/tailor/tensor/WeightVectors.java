package dev.tailor.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector loads of weight elements, widened in-register to float at the preferred species width.
 *
 * <p>BF16 is the top half of a float32: sign-extend the 16 bits to 32 and shift left by 16. F16 has no
 * vector conversion in the Vector API, so it is widened with the exponent-rebias trick: the sign and the 15
 * magnitude bits shifted into float position and multiplied by 2<sup>112</sup> give every finite half
 * (subnormals included) exactly; lanes whose exponent was all ones (inf, NaN) then get the float exponent
 * set.
 */
final class WeightVectors {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final VectorSpecies<Short> HALF = VectorSpecies.of(short.class,
            VectorShape.forBitSize(F.vectorBitSize() / 2));
    /** Floats per vector. */
    static final int L = F.length();
    /** A half's sign and magnitude bits in float position, once sign-extended to 32 bits and shifted left by 13. */
    static final int F16_BITS = 0x8FFFE000;
    /** What those bits, as a float, are multiplied by to be the half's value (subnormal halves included). */
    static final float F16_REBIAS = 0x1p112f;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private WeightVectors() {
    }

    /** {@link #L} F32 elements starting at element {@code index}. */
    static FloatVector f32(MemorySegment data, long index) {
        return FloatVector.fromMemorySegment(F, data, index << 2, LE);
    }

    /**
     * The float array behind a heap segment of floats ({@link WeightMatrix#of}: trainable weights, adapters' small
     * matrices), or null when {@code data} is native memory (or, in tests, a heap segment over another array type or
     * not at a float boundary, read as a segment). The kernels read an F32 W that has such an array through it
     * ({@code FloatVector.fromArray}), never through segment loads: the JIT compiles the JDK's segment loads for every
     * segment class the process has passed them, and one heap segment among the native ones slowed every weight load
     * of every product.
     */
    static float[] heapFloats(MemorySegment data) {
        if (data.isNative() || data.address() % Float.BYTES != 0) {
            return null;
        }
        return data.heapBase().orElseThrow() instanceof float[] floats ? floats : null;
    }

    /** The index in {@link #heapFloats} of a heap segment's first float. */
    static int heapIndex(MemorySegment data) {
        return Math.toIntExact(data.address() / Float.BYTES);
    }

    /** {@link #L} BF16 elements starting at element {@code index}, widened. */
    static FloatVector bf16(MemorySegment data, long index) {
        IntVector h = halves(data, index);
        return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * {@code 2·L} BF16 elements starting at element {@code index}, as {@link #L} ints: lane l holds element
     * {@code index + 2l} in its low half and {@code index + 2l + 1} in its high half ({@link #bf16Even},
     * {@link #bf16Odd}). One load and one operation widen each vector, where {@link #bf16} takes a load, a conversion
     * and a shift.
     */
    static IntVector bf16Pairs(MemorySegment data, long index) {
        return IntVector.fromMemorySegment(I, data, index << 1, LE);
    }

    /** The even elements of {@link #bf16Pairs}, widened: lane l is element {@code index + 2l}. */
    static FloatVector bf16Even(IntVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** The odd elements of {@link #bf16Pairs}, widened: lane l is element {@code index + 2l + 1}. */
    static FloatVector bf16Odd(IntVector pairs) {
        return pairs.and(0xFFFF0000).reinterpretAsFloats();
    }

    /**
     * The {@code m} rows of X ({@code [m, k]} at {@code x[xOff]}) in the order the BF16 kernels read them against
     * {@link #bf16Pairs}: in each whole block of {@code 2·L} columns, the even columns, then the odd ones; the
     * {@code k mod 2L} columns after the last block as they are.
     */
    static float[] pairSplit(float[] x, int xOff, int m, int k) {
        float[] out = new float[m * k];
        int blocks = k / (2 * L) * (2 * L);
        for (int i = 0; i < m; i++) {
            int src = xOff + i * k;
            int dst = i * k;
            for (int c = 0; c < blocks; c += 2 * L) {
                for (int l = 0; l < L; l++) {
                    out[dst + c + l] = x[src + c + 2 * l];
                    out[dst + c + L + l] = x[src + c + 2 * l + 1];
                }
            }
            System.arraycopy(x, src + blocks, out, dst + blocks, k - blocks);
        }
        return out;
    }

    /** {@link #L} F16 elements starting at element {@code index}, widened. */
    static FloatVector f16(MemorySegment data, long index) {
        return f16Widen(halves(data, index));
    }

    /**
     * {@link #L} F16 elements starting at element {@code index}, widened, where none is infinite or NaN (block
     * scales, see {@link InterleavedBlocks}): {@link #f16} without its fix-up of those.
     */
    static FloatVector f16Finite(MemorySegment data, long index) {
        return halves(data, index).lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats()
                .mul(F16_REBIAS);
    }

    // Split in two methods under C2's small-method inlining limit: as one method it was left un-inlined in
    // the hot loop and its vectors were boxed.
    private static FloatVector f16Widen(IntVector h) {
        // sign (bit 31, h is sign-extended) and the 15 magnitude bits moved to float position
        return f16InfNan(h.lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS));
    }

    /** Sets the float exponent to all ones where the rebiased half is {@code >= 2^16} (it was inf or NaN). */
    private static FloatVector f16InfNan(FloatVector f) {
        VectorMask<Integer> infNan = f.abs().compare(VectorOperators.GE, 65536f).cast(I);
        return f.reinterpretAsInts().lanewise(VectorOperators.OR, 0x7f800000, infNan).reinterpretAsFloats();
    }

    private static IntVector halves(MemorySegment data, long index) {
        ShortVector s = ShortVector.fromMemorySegment(HALF, data, index << 1, LE);
        return (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
    }
}
