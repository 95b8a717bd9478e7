package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.F16_BITS;
import static dev.tailor.tensor.WeightVectors.F16_REBIAS;
import static dev.tailor.tensor.WeightVectors.I;
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
 * {@link Gemv} for Q4_0 and Q8_0 weights in integers, as llama.cpp multiplies them: each row of X is quantized to 8
 * bits per block of 32 ({@link ActivationBlocks}), and a block's 32 products of the weights' quants and the 8-bit
 * activations are summed exactly in integers, then scaled once.
 *
 * <p>Output j is {@code Σ_b w_d[j, b]·(S·x_d[b] + x_offset[b])} over the blocks in order, each step two fused
 * multiply-adds ({@code t = S·x_d + x_offset}, then {@code y = t·w_d + y}), where {@code S} is the block's integer sum
 * of quant times q as a float. Q4_0: the sum over its first 16 elements plus the sum over its last 16, each exact in
 * 16 bits (at most {@code 16·15·127 = 30480}), and the nibbles' offset of 8 in {@code x_offset = -8·x_d·Σq}. Q8_0:
 * products summed in pairs in 16 bits (at most {@code 2·128·127 = 32512}), the pairs in 32, and no offset
 * ({@code y = (S·x_d)·w_d + y}). Integer sums do not depend on their order, so an output has the same bits whatever
 * the rows, the batch, the task split or the vector width: the products are batch invariant
 * ({@link MatMul#batchInvariant}), and {@link ScalarKernels#matmulTransposedQ4Integer} and
 * {@link ScalarKernels#matmulTransposedQ8Integer} are their scalar twins.
 *
 * <p>Vectors run across W's rows, not along k: W is regrouped once ({@link InterleavedBlocks}) so that one load holds
 * byte j of a block of 2L rows, widened to 16-bit lanes and multiplied by the broadcast q of its element. Q4_0 takes
 * the low and high nibbles of a load (elements j and j + 16) into two accumulators: 8 vector operations per 64
 * weights, where dequantizing to float takes 8 per 32, and no lane sums at the end. Q8_0 adds two loads' products
 * in 16 bits and widens the sum into two 32-bit accumulators: 9 operations per 64 weights. Two groups go side by
 * side, half of a task's groups apart (as {@link RowSweeps} places rows), so that W is read as two sequential streams.
 * The loads, conversions and sums are written out in each kernel: where C2 did not inline a helper returning a
 * vector, or compiled a rarely used second kernel with too little profile to bind its vector calls, the vectors were
 * boxed and decoding ran several times slower.
 */
final class IntegerGemv {
    /** Whether this machine's vectors are wide enough (a group of at least 8 rows). */
    static final boolean SUPPORTED = L >= 4;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2)));
    private static final int ROWS = InterleavedBlocks.ROWS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Target bytes of W per task, so a chunk is reused from L2 across X rows. */
    private static final int CHUNK_BYTES = 256 * 1024;

    private IntegerGemv() {
    }

    /**
     * Whether W is multiplied here: Q4_0 always, where the integer products are about twice the float ones; Q8_0 when
     * its bytes are mapped from a file, whose pages the regrouped copy then replaces in memory
     * ({@link WeightMatrix#droppingMappedPages}), since for a tenth to a quarter more speed it would otherwise hold
     * the weights twice.
     */
    static boolean handles(WeightMatrix w) {
        return SUPPORTED && (w.dtype() == DType.Q4_0 || w.dtype() == DType.Q8_0 && w.dropsMappedPages());
    }

    /**
     * The tasks of {@code y[yOff + i·n + j] = Σ_c x[i, c] · w[j, c]} for {@code i < m}, W Q4_0 or Q8_0 and X given
     * by its 8-bit {@code blocks}: runs of an even number of W's row groups, each small enough to stay in L2 while
     * every X row passes over it.
     */
    static Gemv.Tasks tasks(ActivationBlocks blocks, int m, WeightMatrix w, float[] y, int yOff) {
        InterleavedBlocks g = w.interleaved();
        int byCache = (int) Math.max(1, CHUNK_BYTES / g.groupBytes());
        int byThreads = PackedGemm.ceilDiv(g.groups, 8 * Parallel.threads());
        // an even number of groups, so that only the last task may repeat one
        int chunk = (Math.max(2, Math.min(byCache, byThreads)) + 1) & ~1;
        int n = w.rows();
        int count = PackedGemm.ceilDiv(g.groups, chunk);
        // a task body per type: one body choosing the kernel per row measured 5-15% slower over the Q4_0 products
        if (g.dtype == DType.Q4_0) {
            return new Gemv.Tasks(count, t -> {
                int g0 = t * chunk;
                int g1 = Math.min(g.groups, g0 + chunk);
                for (int i = 0; i < m; i++) {
                    groupsQ4(g, blocks, i, g0, g1, y, yOff + i * n);
                }
            });
        }
        return new Gemv.Tasks(count, t -> {
            int g0 = t * chunk;
            int g1 = Math.min(g.groups, g0 + chunk);
            for (int i = 0; i < m; i++) {
                groupsQ8(g, blocks, i, g0, g1, y, yOff + i * n);
            }
        });
    }

    /**
     * Q4_0 groups {@code [g0, g1)} against row {@code i} of the quantized X, into {@code y[yo + j]} for their rows j:
     * two at a time, half the range apart, the last group repeated when the range is odd (its outputs computed and
     * stored twice).
     */
    private static void groupsQ4(InterleavedBlocks w, ActivationBlocks a, int i, int g0, int g1, float[] y, int yo) {
        int half = RowSweeps.half(g0, g1);
        for (int g = g0; g < g0 + half; g++) {
            pairQ4(w, a, i, g, Math.min(g + half, g1 - 1), y, yo);
        }
    }

    /** {@link #groupsQ4} for Q8_0. */
    private static void groupsQ8(InterleavedBlocks w, ActivationBlocks a, int i, int g0, int g1, float[] y, int yo) {
        int half = RowSweeps.half(g0, g1);
        for (int g = g0; g < g0 + half; g++) {
            pairQ8(w, a, i, g, Math.min(g + half, g1 - 1), y, yo);
        }
    }

    /** Q4_0 groups {@code g} and {@code h} side by side (the same group twice when they are equal). */
    private static void pairQ4(InterleavedBlocks w, ActivationBlocks a, int i, int g, int h, float[] y, int yo) {
        int blocks = w.blocks;
        int[] q = a.q;
        MemorySegment scales = w.scales;
        MemorySegment nibbles = w.quants;
        long apart = (long) (h - g) * blocks * 16 * ROWS;
        int scalesApart = (h - g) * blocks * ROWS;
        FloatVector g0 = FloatVector.zero(F);
        FloatVector g1 = g0;
        FloatVector h0 = g0;
        FloatVector h1 = g0;
        for (int b = 0; b < blocks; b++) {
            ShortVector gl = ShortVector.zero(S);
            ShortVector gh = gl;
            ShortVector hl = gl;
            ShortVector hh = gl;
            long at = ((long) g * blocks + b) * 16 * ROWS;
            int qi = (i * blocks + b) * Quantization.QK;
            for (int j = 0; j < 16; j++) {
                short ql = (short) q[qi + j];
                short qh = (short) q[qi + j + 16];
                ShortVector wg = (ShortVector) ByteVector.fromMemorySegment(B, nibbles, at + (long) j * ROWS, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector wh = (ShortVector) ByteVector.fromMemorySegment(B, nibbles, at + apart + (long) j * ROWS,
                        LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                gl = wg.and((short) 15).mul(ql).add(gl);
                gh = wg.lanewise(VectorOperators.LSHR, 4).mul(qh).add(gh);
                hl = wh.and((short) 15).mul(ql).add(hl);
                hh = wh.lanewise(VectorOperators.LSHR, 4).mul(qh).add(hh);
            }
            FloatVector d = FloatVector.broadcast(F, a.d[i * blocks + b]);
            FloatVector offset = FloatVector.broadcast(F, a.offset[i * blocks + b]);
            int s = (g * blocks + b) * ROWS;
            // the F16 scales widened written out, as WeightVectors.f16Finite does: called here, C2 does not inline it
            // into a kernel this size and boxes its vector (Q4_0 and Q8_0 decode measured 30-40% slower)
            ShortVector sg = ShortVector.fromMemorySegment(S, scales, (long) s * Short.BYTES, LE);
            ShortVector sh = ShortVector.fromMemorySegment(S, scales, (long) (s + scalesApart) * Short.BYTES, LE);
            FloatVector sum = ((FloatVector) gl.convertShape(VectorOperators.S2F, F, 0))
                    .add((FloatVector) gh.convertShape(VectorOperators.S2F, F, 0));
            g0 = sum.fma(d, offset).fma(((IntVector) sg.convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), g0);
            sum = ((FloatVector) gl.convertShape(VectorOperators.S2F, F, 1))
                    .add((FloatVector) gh.convertShape(VectorOperators.S2F, F, 1));
            g1 = sum.fma(d, offset).fma(((IntVector) sg.convertShape(VectorOperators.S2I, I, 1))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), g1);
            sum = ((FloatVector) hl.convertShape(VectorOperators.S2F, F, 0))
                    .add((FloatVector) hh.convertShape(VectorOperators.S2F, F, 0));
            h0 = sum.fma(d, offset).fma(((IntVector) sh.convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), h0);
            sum = ((FloatVector) hl.convertShape(VectorOperators.S2F, F, 1))
                    .add((FloatVector) hh.convertShape(VectorOperators.S2F, F, 1));
            h1 = sum.fma(d, offset).fma(((IntVector) sh.convertShape(VectorOperators.S2I, I, 1))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), h1);
        }
        if (h * ROWS + ROWS <= w.rows) {
            g0.intoArray(y, yo + g * ROWS);
            g1.intoArray(y, yo + g * ROWS + L);
            h0.intoArray(y, yo + h * ROWS);
            h1.intoArray(y, yo + h * ROWS + L);
        } else {
            store(g0, g1, w.rows, g, y, yo);
            store(h0, h1, w.rows, h, y, yo);
        }
    }

    /** Q8_0 groups {@code g} and {@code h} side by side (the same group twice when they are equal). */
    private static void pairQ8(InterleavedBlocks w, ActivationBlocks a, int i, int g, int h, float[] y, int yo) {
        int blocks = w.blocks;
        int[] q = a.q;
        MemorySegment scales = w.scales;
        MemorySegment quants = w.quants;
        long apart = (long) (h - g) * blocks * Quantization.QK * ROWS;
        int scalesApart = (h - g) * blocks * ROWS;
        FloatVector g0 = FloatVector.zero(F);
        FloatVector g1 = g0;
        FloatVector h0 = g0;
        FloatVector h1 = g0;
        for (int b = 0; b < blocks; b++) {
            IntVector sg0 = IntVector.zero(I);
            IntVector sg1 = sg0;
            IntVector sh0 = sg0;
            IntVector sh1 = sg0;
            long at = ((long) g * blocks + b) * Quantization.QK * ROWS;
            int qi = (i * blocks + b) * Quantization.QK;
            for (int j = 0; j < Quantization.QK; j += 2) {
                short q0 = (short) q[qi + j];
                short q1 = (short) q[qi + j + 1];
                long o = at + (long) j * ROWS;
                ShortVector pg = ((ShortVector) ByteVector.fromMemorySegment(B, quants, o, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(q0)
                        .add(((ShortVector) ByteVector.fromMemorySegment(B, quants, o + ROWS, LE)
                                .convertShape(VectorOperators.B2S, S, 0)).mul(q1));
                ShortVector ph = ((ShortVector) ByteVector.fromMemorySegment(B, quants, o + apart, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(q0)
                        .add(((ShortVector) ByteVector.fromMemorySegment(B, quants, o + apart + ROWS, LE)
                                .convertShape(VectorOperators.B2S, S, 0)).mul(q1));
                sg0 = sg0.add((IntVector) pg.convertShape(VectorOperators.S2I, I, 0));
                sg1 = sg1.add((IntVector) pg.convertShape(VectorOperators.S2I, I, 1));
                sh0 = sh0.add((IntVector) ph.convertShape(VectorOperators.S2I, I, 0));
                sh1 = sh1.add((IntVector) ph.convertShape(VectorOperators.S2I, I, 1));
            }
            FloatVector d = FloatVector.broadcast(F, a.d[i * blocks + b]);
            int s = (g * blocks + b) * ROWS;
            // the scales widened written out, as in pairQ4
            ShortVector dg = ShortVector.fromMemorySegment(S, scales, (long) s * Short.BYTES, LE);
            ShortVector dh = ShortVector.fromMemorySegment(S, scales, (long) (s + scalesApart) * Short.BYTES, LE);
            g0 = ((FloatVector) sg0.convert(VectorOperators.I2F, 0)).mul(d).fma(((IntVector) dg.convertShape(
                    VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(F16_REBIAS), g0);
            g1 = ((FloatVector) sg1.convert(VectorOperators.I2F, 0)).mul(d).fma(((IntVector) dg.convertShape(
                    VectorOperators.S2I, I, 1)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(F16_REBIAS), g1);
            h0 = ((FloatVector) sh0.convert(VectorOperators.I2F, 0)).mul(d).fma(((IntVector) dh.convertShape(
                    VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(F16_REBIAS), h0);
            h1 = ((FloatVector) sh1.convert(VectorOperators.I2F, 0)).mul(d).fma(((IntVector) dh.convertShape(
                    VectorOperators.S2I, I, 1)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(F16_REBIAS), h1);
        }
        if (h * ROWS + ROWS <= w.rows) {
            g0.intoArray(y, yo + g * ROWS);
            g1.intoArray(y, yo + g * ROWS + L);
            h0.intoArray(y, yo + h * ROWS);
            h1.intoArray(y, yo + h * ROWS + L);
        } else {
            store(g0, g1, w.rows, g, y, yo);
            store(h0, h1, w.rows, h, y, yo);
        }
    }

    /** The group's outputs, those of rows below {@code rows}. */
    private static void store(FloatVector first, FloatVector second, int rows, int g, float[] y, int yo) {
        int row = g * ROWS;
        if (row + ROWS <= rows) {
            first.intoArray(y, yo + row);
            second.intoArray(y, yo + row + L);
            return;
        }
        first.intoArray(y, yo + row, F.indexInRange(row, rows));
        second.intoArray(y, yo + row + L, F.indexInRange(row + L, rows));
    }
}
