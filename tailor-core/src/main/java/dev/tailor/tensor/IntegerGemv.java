package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Gemv} for Q4_0 weights in integers, as llama.cpp multiplies them: each row of X is quantized to 8 bits per
 * block of 32 ({@link ActivationBlocks}), and a block's 32 products of 4-bit weights and 8-bit activations are summed
 * exactly in 16-bit integers, then scaled once.
 *
 * <p>Output j is {@code Σ_b w_d[j, b]·(S·x_d[b] + x_offset[b])} over the blocks in order, each step two fused
 * multiply-adds ({@code t = S·x_d + x_offset}, then {@code y = t·w_d + y}), where {@code S} is the block's sum of
 * nibble times q as a float: the sum over its first 16 elements plus the sum over its last 16, each exact in 16 bits
 * (at most {@code 16·15·127 = 30480}); the nibbles' offset of 8 is in {@code x_offset = -8·x_d·Σq}. Integer sums do
 * not depend on their order, so an output has the same bits whatever the rows, the batch, the task split or the vector
 * width: the products are batch invariant ({@link MatMul#batchInvariant}), and
 * {@link ScalarKernels#matmulTransposedQ4Integer} is their scalar twin.
 *
 * <p>Vectors run across W's rows, not along k: W is regrouped once ({@link InterleavedQ4}) so that one load holds
 * byte j of a block of 2L rows; widened to 16-bit lanes, its low and high nibbles are multiplied by the broadcast
 * q of elements j and j + 16 and added to two accumulators. That is 8 vector operations per 64 weights, where
 * dequantizing to float ({@link QuantGemv}) takes 8 per 32, and no lane sums at the end. Two groups go side by side,
 * half of a task's groups apart (as {@link RowSweeps} places rows), so that W is read as two sequential streams.
 * The loads, conversions and sums are written out in the one kernel: where C2 did not inline a helper returning a
 * vector, or compiled a rarely used second kernel with too little profile to bind its vector calls, the vectors were
 * boxed and decoding ran several times slower.
 */
final class IntegerGemv {
    /** Whether this machine's vectors are wide enough (a group of at least 8 rows). */
    static final boolean SUPPORTED = L >= 4;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2)));
    private static final int ROWS = InterleavedQ4.ROWS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Target bytes of W per task, so a chunk is reused from L2 across X rows. */
    private static final int CHUNK_BYTES = 256 * 1024;

    private IntegerGemv() {
    }

    /**
     * The tasks of {@code y[yOff + i·n + j] = Σ_c x[i, c] · w[j, c]} for {@code i < m}, W Q4_0 and X given by its
     * 8-bit {@code blocks}: runs of an even number of W's row groups, each small enough to stay in L2 while every X
     * row passes over it.
     */
    static Gemv.Tasks tasks(ActivationBlocks blocks, int m, WeightMatrix w, float[] y, int yOff) {
        InterleavedQ4 g = w.interleavedQ4();
        int byCache = (int) Math.max(1, CHUNK_BYTES / g.groupBytes());
        int byThreads = PackedGemm.ceilDiv(g.groups, 8 * Parallel.threads());
        // an even number of groups, so that only the last task may repeat one
        int chunk = (Math.max(2, Math.min(byCache, byThreads)) + 1) & ~1;
        int n = w.rows();
        return new Gemv.Tasks(PackedGemm.ceilDiv(g.groups, chunk), t -> {
            int g0 = t * chunk;
            int g1 = Math.min(g.groups, g0 + chunk);
            for (int i = 0; i < m; i++) {
                groups(g, blocks, i, g0, g1, y, yOff + i * n);
            }
        });
    }

    /**
     * Groups {@code [g0, g1)} against row {@code i} of the quantized X, into {@code y[yo + j]} for their rows j: two
     * at a time, half the range apart, the last group repeated when the range is odd (its outputs computed and stored
     * twice).
     */
    private static void groups(InterleavedQ4 w, ActivationBlocks a, int i, int g0, int g1, float[] y, int yo) {
        int half = RowSweeps.half(g0, g1);
        for (int g = g0; g < g0 + half; g++) {
            pair(w, a, i, g, Math.min(g + half, g1 - 1), y, yo);
        }
    }

    /** Groups {@code g} and {@code h} side by side (the same group twice when they are equal). */
    private static void pair(InterleavedQ4 w, ActivationBlocks a, int i, int g, int h, float[] y, int yo) {
        int blocks = w.blocks;
        int[] q = a.q;
        float[] scales = w.scales;
        MemorySegment nibbles = w.nibbles;
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
            FloatVector sum = ((FloatVector) gl.convertShape(VectorOperators.S2F, F, 0))
                    .add((FloatVector) gh.convertShape(VectorOperators.S2F, F, 0));
            g0 = sum.fma(d, offset).fma(FloatVector.fromArray(F, scales, s), g0);
            sum = ((FloatVector) gl.convertShape(VectorOperators.S2F, F, 1))
                    .add((FloatVector) gh.convertShape(VectorOperators.S2F, F, 1));
            g1 = sum.fma(d, offset).fma(FloatVector.fromArray(F, scales, s + L), g1);
            sum = ((FloatVector) hl.convertShape(VectorOperators.S2F, F, 0))
                    .add((FloatVector) hh.convertShape(VectorOperators.S2F, F, 0));
            h0 = sum.fma(d, offset).fma(FloatVector.fromArray(F, scales, s + scalesApart), h0);
            sum = ((FloatVector) hl.convertShape(VectorOperators.S2F, F, 1))
                    .add((FloatVector) hh.convertShape(VectorOperators.S2F, F, 1));
            h1 = sum.fma(d, offset).fma(FloatVector.fromArray(F, scales, s + scalesApart + L), h1);
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
