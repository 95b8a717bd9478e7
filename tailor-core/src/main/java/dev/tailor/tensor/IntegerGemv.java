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
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Gemv} for Q4_0 and Q8_0 weights in integers, as llama.cpp multiplies them: each row of X is quantized to 8
 * bits per block of 32 ({@link ActivationBlocks}), and a block's 32 products of the weights' quants and the 8-bit
 * activations are summed exactly in integers, then scaled once.
 *
 * <p>Output j is {@code Σ_b w_d[j, b]·S·x_d[b]} over the blocks in order, each step a product and a fused
 * multiply-add ({@code t = S·x_d}, then {@code y = t·w_d + y}), where {@code S} is the block's integer sum of quant
 * times q as a float. Q4_0: the quants are the nibbles less 8, so a block's sum is at most {@code 32·8·127 = 32512}
 * and exact in 16 bits: the nibbles' products summed modulo 2^16, started at {@code -8·Σq}. Q8_0: products summed in
 * pairs in 16 bits (at most {@code 2·128·127 = 32512}), the pairs in 32. Integer sums do not
 * depend on their order, so an output has the same bits whatever the rows, the batch, the task split or the vector
 * width: the products are batch invariant ({@link MatMul#batchInvariant}), and
 * {@link ScalarKernels#matmulTransposedQ4Integer} and {@link ScalarKernels#matmulTransposedQ8Integer} are their scalar
 * twins.
 *
 * <p>Vectors run across W's rows, not along k: W is regrouped once ({@link InterleavedBlocks}) so that a load holds the
 * same quant bytes of a block of 2L rows, one row per 16-bit lane (Q8_0's once widened). Q4_0: a lane holds two bytes
 * of its row, four nibbles; the lane, the lane shifted right by 4 bits, and the two with their bytes exchanged, times
 * four multipliers ({@link ActivationBlocks#q4Multipliers()}, chosen so that the nibbles a shift or an exchange leaves
 * in the higher bits cancel) are the four products' sum, exact modulo 2^16: 13 vector operations per 128 weights, the
 * load included, no widening of the bytes, where dequantizing to float takes 8 per 32, and no lane sums at the end.
 * With vectors narrower than 512 bits, the lane shifted right by 4, 8 and 12 bits takes the exchanges' place
 * ({@link #EXCHANGE_BYTES}).
 * Only one of them is a shift: on Intel's cores 512-bit shifts and multiplies issue on one port, byte permutations on
 * another (on an Intel Xeon, shifting by 4, 8 and 12 bits instead was 5-10% slower; summing a block in two 16-bit
 * halves, each converted to floats, 30% slower than in one). Q8_0: a load holds byte j, widened to 16-bit lanes and
 * multiplied by the broadcast q of its element; two loads' products are added in 16 bits and the sum, viewed as 32-bit
 * lanes (rows 2u and 2u + 1 in lane u), split by shifts into the even and the odd rows' 32-bit accumulators, put back
 * in row order once at the end ({@link #FIRST_ROWS}): 9 operations per 64 weights, where widening each half of the sum
 * took a permutation more. Two groups go side by side, half of a task's groups apart (as {@link RowSweeps} places
 * rows), so that W is read as two sequential streams (Q8_0's four on Intel's cores, {@link #FOUR_Q8_GROUPS}). The
 * loads, conversions and sums are written out in each kernel: where C2 did not inline a helper returning a vector, or
 * compiled a rarely used second kernel with too little profile to bind its vector calls, the vectors were boxed and
 * decoding ran several times slower.
 */
final class IntegerGemv {
    /** Whether this machine's vectors are wide enough (a group of at least 8 rows). */
    static final boolean SUPPORTED = L >= 4;
    /**
     * Whether Q4_0's nibbles come down by one shift and byte exchanges (512-bit vectors, where the exchange is one
     * byte permutation) or by shifts of 4, 8 and 12 bits (narrower vectors: C2 makes a 256-bit byte rearrangement
     * of two in-lane shuffles, a lane swap, an index sum and a blend, and on an AMD Zen 3 the shifts' kernel ran a
     * third faster, 15.6 against 20.9 G weights/s on one thread). The two give the same sums, bit for bit.
     */
    static final boolean EXCHANGE_BYTES = F.vectorBitSize() >= 512;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2)));
    /** Exchanges the two bytes of every 16-bit lane of a vector as wide as the float kernels'. */
    private static final VectorShuffle<Byte> SWAP = VectorShuffle.fromOp(
            VectorSpecies.of(byte.class, F.vectorShape()), i -> i ^ 1);
    private static final int ROWS = InterleavedBlocks.ROWS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Lane indices that put a group's first L rows in order from its even-row and odd-row vectors (a 32-bit view of
     * 16-bit lanes holds rows 2u and 2u + 1 in lane u): {@code FIRST_ROWS.selectFrom(even, odd)}.
     */
    private static final FloatVector FIRST_ROWS = rowOrder(0);
    /** {@link #FIRST_ROWS} for the group's last L rows. */
    private static final FloatVector LAST_ROWS = rowOrder(L / 2);
    /**
     * Whether Q8_0's groups go four side by side (four streams through W per thread) rather than two: on an Intel
     * Xeon, two threads decoded the reference shape 3-7% faster so (in 18 of 22 alternating pairs; one thread 2%
     * slower), where Q8_0's products wait on W more than Q4_0's (Q4_0 gained nothing). On an AMD Zen 4 four groups
     * of Q4_0 were 10-15% slower; AMD's cores, and vectors narrower than 512 bits (too few registers for sixteen
     * accumulators), keep two.
     */
    static final boolean FOUR_Q8_GROUPS = EXCHANGE_BYTES && Processor.INTEL;

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
     * by its 8-bit {@code blocks}: runs of an even number of W's row groups ({@link Gemv#unitsPerTask}; one X row
     * takes a run per thread, so each thread's two streams, {@link #groupsQ4}, sweep a quarter of W on two threads).
     */
    static Gemv.Tasks tasks(ActivationBlocks blocks, int m, WeightMatrix w, float[] y, int yOff) {
        return tasks(blocks, m, w, y, yOff, FOUR_Q8_GROUPS);
    }

    /** {@link #tasks(ActivationBlocks, int, WeightMatrix, float[], int)}, Q8_0's groups four side by side or two. */
    static Gemv.Tasks tasks(ActivationBlocks blocks, int m, WeightMatrix w, float[] y, int yOff, boolean fourQ8) {
        InterleavedBlocks g = w.interleaved();
        // an even number of groups, so that only the last task may repeat one
        int chunk = (Math.max(2, Gemv.unitsPerTask(m, g.groups, g.groupBytes())) + 1) & ~1;
        int n = w.rows();
        int count = PackedGemm.ceilDiv(g.groups, chunk);
        // a task body per type: one body choosing the kernel per row measured 5-15% slower over the Q4_0 products
        if (g.dtype == DType.Q4_0) {
            int[] multipliers = blocks.q4Multipliers();
            return new Gemv.Tasks(count, t -> {
                int g0 = t * chunk;
                int g1 = Math.min(g.groups, g0 + chunk);
                for (int i = 0; i < m; i++) {
                    groupsQ4(g, blocks, multipliers, i, g0, g1, y, yOff + i * n);
                }
            });
        }
        return new Gemv.Tasks(count, t -> {
            int g0 = t * chunk;
            int g1 = Math.min(g.groups, g0 + chunk);
            for (int i = 0; i < m; i++) {
                groupsQ8(g, blocks, i, g0, g1, y, yOff + i * n, fourQ8);
            }
        });
    }

    /**
     * Q4_0 groups {@code [g0, g1)} against row {@code i} of the quantized X, into {@code y[yo + j]} for their rows j:
     * two at a time, half the range apart, the last group repeated when the range is odd (its outputs computed and
     * stored twice).
     */
    private static void groupsQ4(InterleavedBlocks w, ActivationBlocks a, int[] m, int i, int g0, int g1, float[] y,
                                 int yo) {
        int half = RowSweeps.half(g0, g1);
        for (int g = g0; g < g0 + half; g++) {
            pairQ4(w, a, m, i, g, Math.min(g + half, g1 - 1), y, yo);
        }
    }

    /**
     * {@link #groupsQ4} for Q8_0; with {@code four}, first four at a time, a quarter of the whole quadruples apart
     * ({@link #quadQ8}), the rest two at a time.
     */
    private static void groupsQ8(InterleavedBlocks w, ActivationBlocks a, int i, int g0, int g1, float[] y, int yo,
                                 boolean four) {
        int from = g0;
        if (four) {
            int quarter = (g1 - g0) >>> 2;
            for (int g = g0; g < g0 + quarter; g++) {
                quadQ8(w, a, i, g, quarter, y, yo);
            }
            from += 4 * quarter;
        }
        int half = RowSweeps.half(from, g1);
        for (int g = from; g < from + half; g++) {
            pairQ8(w, a, i, g, Math.min(g + half, g1 - 1), y, yo);
        }
    }

    /**
     * Q4_0 groups {@code g} and {@code h} side by side (the same group twice when they are equal). A load holds four
     * nibbles of each of the group's rows ({@link InterleavedBlocks}), {@code s = n0 + 16·n1 + 256·n2 + 4096·n3}; with
     * {@code v = s >>> 4} (a 32-bit shift, masked), the four products' sum is {@code s·m0 + v·m1 + swap(s)·m2 +
     * swap(v)·m3}, {@code swap} exchanging a lane's two bytes (a byte permutation, not a shift: on Intel's cores shifts
     * and multiplies share one port) and {@code m} the multipliers of {@link ActivationBlocks#q4Multipliers()}; below
     * 512 bits {@code s·m0 + (s >>> 4)·m1 + (s >>> 8)·m2 + (s >>> 12)·m3} in 16-bit lanes. All eight loads of a block
     * go into one 16-bit sum started at {@code -8·Σq}, then into floats.
     */
    private static void pairQ4(InterleavedBlocks w, ActivationBlocks a, int[] m, int i, int g, int h, float[] y,
                               int yo) {
        int blocks = w.blocks;
        MemorySegment scales = w.scales;
        MemorySegment nibbles = w.quants;
        long apart = (long) (h - g) * blocks * 16 * ROWS;
        int scalesApart = (h - g) * blocks * ROWS;
        FloatVector g0 = FloatVector.zero(F);
        FloatVector g1 = g0;
        FloatVector h0 = g0;
        FloatVector h1 = g0;
        for (int b = 0; b < blocks; b++) {
            long at = ((long) g * blocks + b) * 16 * ROWS;
            int mi = (i * blocks + b) * Quantization.QK;
            ShortVector sg = ShortVector.broadcast(S, (short) (-8 * a.sums[i * blocks + b]));
            ShortVector sh = sg;
            // each group's block through a slice of its own: C2 checks the slice's bounds, not the whole copy's at
            // every load (against the copy it peeled the first of the eight loads off the loop with ~25 instructions
            // of checks, a block's ~370 in all); two-thread decoding +13% over Q4_0, and +9% over Q8_0 whose kernels
            // read their blocks so too
            MemorySegment bg = nibbles.asSlice(at, 16 * ROWS);
            MemorySegment bh = nibbles.asSlice(at + apart, 16 * ROWS);
            for (int p = 0; p < 8; p++) {
                long o = (long) p * 2 * ROWS;
                int c = mi + 4 * p;
                ShortVector m0 = IntVector.broadcast(I, m[c]).reinterpretAsShorts();
                ShortVector m1 = IntVector.broadcast(I, m[c + 1]).reinterpretAsShorts();
                ShortVector m2 = IntVector.broadcast(I, m[c + 2]).reinterpretAsShorts();
                ShortVector m3 = IntVector.broadcast(I, m[c + 3]).reinterpretAsShorts();
                ShortVector wg = ShortVector.fromMemorySegment(S, bg, o, LE);
                ShortVector wh = ShortVector.fromMemorySegment(S, bh, o, LE);
                if (EXCHANGE_BYTES) {
                    ShortVector vg = wg.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).and(0x0FFF0FFF)
                            .reinterpretAsShorts();
                    ShortVector vh = wh.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).and(0x0FFF0FFF)
                            .reinterpretAsShorts();
                    sg = sg.add(wg.mul(m0).add(vg.mul(m1))
                            .add(wg.reinterpretAsBytes().rearrange(SWAP).reinterpretAsShorts().mul(m2)
                                    .add(vg.reinterpretAsBytes().rearrange(SWAP).reinterpretAsShorts().mul(m3))));
                    sh = sh.add(wh.mul(m0).add(vh.mul(m1))
                            .add(wh.reinterpretAsBytes().rearrange(SWAP).reinterpretAsShorts().mul(m2)
                                    .add(vh.reinterpretAsBytes().rearrange(SWAP).reinterpretAsShorts().mul(m3))));
                } else {
                    sg = sg.add(wg.mul(m0).add(wg.lanewise(VectorOperators.LSHR, 4).mul(m1))
                            .add(wg.lanewise(VectorOperators.LSHR, 8).mul(m2)
                                    .add(wg.lanewise(VectorOperators.LSHR, 12).mul(m3))));
                    sh = sh.add(wh.mul(m0).add(wh.lanewise(VectorOperators.LSHR, 4).mul(m1))
                            .add(wh.lanewise(VectorOperators.LSHR, 8).mul(m2)
                                    .add(wh.lanewise(VectorOperators.LSHR, 12).mul(m3))));
                }
            }
            FloatVector d = FloatVector.broadcast(F, a.d[i * blocks + b]);
            int s = (g * blocks + b) * ROWS;
            // the F16 scales widened written out, as WeightVectors.f16Finite does: called here, C2 does not inline it
            // into a kernel this size and boxes its vector (Q4_0 and Q8_0 decode measured 30-40% slower)
            ShortVector dg = ShortVector.fromMemorySegment(S, scales, (long) s * Short.BYTES, LE);
            ShortVector dh = ShortVector.fromMemorySegment(S, scales, (long) (s + scalesApart) * Short.BYTES, LE);
            g0 = ((FloatVector) sg.convertShape(VectorOperators.S2F, F, 0)).mul(d).fma(((IntVector) dg
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(F16_REBIAS), g0);
            g1 = ((FloatVector) sg.convertShape(VectorOperators.S2F, F, 1)).mul(d).fma(((IntVector) dg
                    .convertShape(VectorOperators.S2I, I, 1)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(F16_REBIAS), g1);
            h0 = ((FloatVector) sh.convertShape(VectorOperators.S2F, F, 0)).mul(d).fma(((IntVector) dh
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
                    .reinterpretAsFloats().mul(F16_REBIAS), h0);
            h1 = ((FloatVector) sh.convertShape(VectorOperators.S2F, F, 1)).mul(d).fma(((IntVector) dh
                    .convertShape(VectorOperators.S2I, I, 1)).lanewise(VectorOperators.LSHL, 13).and(F16_BITS)
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

    /**
     * Two adjacent columns of a Q8_0 block's rows ({@code block} at {@code o} and {@code o + ROWS}) times the
     * activations {@code q0} and {@code q1}, one 16-bit sum per row, returned in a 32-bit view (two rows a lane,
     * which the kernels split by shifts). Small enough that C2 inlines it into them, so its vector is not boxed: Q8_0
     * decoding measured the same with it as with the expression written out in each kernel.
     */
    private static IntVector q8Products(MemorySegment block, long o, short q0, short q1) {
        return ((ShortVector) ByteVector.fromMemorySegment(B, block, o, LE).convertShape(VectorOperators.B2S, S, 0))
                .mul(q0).add(((ShortVector) ByteVector.fromMemorySegment(B, block, o + ROWS, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(q1)).reinterpretAsInts();
    }

    /** Q8_0 groups {@code g} and {@code h} side by side (the same group twice when they are equal). */
    private static void pairQ8(InterleavedBlocks w, ActivationBlocks a, int i, int g, int h, float[] y, int yo) {
        int blocks = w.blocks;
        int[] q = a.q;
        MemorySegment scales = w.scales;
        MemorySegment quants = w.quants;
        long apart = (long) (h - g) * blocks * Quantization.QK * ROWS;
        int scalesApart = (h - g) * blocks * ROWS;
        FloatVector ge = FloatVector.zero(F);
        FloatVector go = ge;
        FloatVector he = ge;
        FloatVector ho = ge;
        for (int b = 0; b < blocks; b++) {
            IntVector sge = IntVector.zero(I);
            IntVector sgo = sge;
            IntVector she = sge;
            IntVector sho = sge;
            long at = ((long) g * blocks + b) * Quantization.QK * ROWS;
            int qi = (i * blocks + b) * Quantization.QK;
            // each group's block through a slice of its own, as pairQ4 reads it
            MemorySegment bg = quants.asSlice(at, Quantization.QK * ROWS);
            MemorySegment bh = quants.asSlice(at + apart, Quantization.QK * ROWS);
            for (int j = 0; j < Quantization.QK; j += 2) {
                short q0 = (short) q[qi + j];
                short q1 = (short) q[qi + j + 1];
                long o = (long) j * ROWS;
                IntVector pg = q8Products(bg, o, q0, q1);
                IntVector ph = q8Products(bh, o, q0, q1);
                sge = sge.add(pg.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                sgo = sgo.add(pg.lanewise(VectorOperators.ASHR, 16));
                she = she.add(ph.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                sho = sho.add(ph.lanewise(VectorOperators.ASHR, 16));
            }
            FloatVector d = FloatVector.broadcast(F, a.d[i * blocks + b]);
            int s = (g * blocks + b) * ROWS;
            // the F16 scales widened written out (see pairQ4), from a 32-bit view: a half shifted up 16 then down 3
            // (arithmetically) is the half sign-extended, shifted up 13
            IntVector dg = IntVector.fromMemorySegment(I, scales, (long) s * Short.BYTES, LE);
            IntVector dh = IntVector.fromMemorySegment(I, scales, (long) (s + scalesApart) * Short.BYTES, LE);
            ge = ((FloatVector) sge.convert(VectorOperators.I2F, 0)).mul(d).fma(dg.lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), ge);
            go = ((FloatVector) sgo.convert(VectorOperators.I2F, 0)).mul(d).fma(dg.lanewise(VectorOperators.ASHR, 3)
                    .and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), go);
            he = ((FloatVector) she.convert(VectorOperators.I2F, 0)).mul(d).fma(dh.lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), he);
            ho = ((FloatVector) sho.convert(VectorOperators.I2F, 0)).mul(d).fma(dh.lanewise(VectorOperators.ASHR, 3)
                    .and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), ho);
        }
        FloatVector g0 = FIRST_ROWS.selectFrom(ge, go);
        FloatVector g1 = LAST_ROWS.selectFrom(ge, go);
        FloatVector h0 = FIRST_ROWS.selectFrom(he, ho);
        FloatVector h1 = LAST_ROWS.selectFrom(he, ho);
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

    /**
     * Q8_0 groups {@code g}, {@code g + apart}, {@code g + 2·apart} and {@code g + 3·apart} side by side, each as
     * {@link #pairQ8} computes it (the same bits). The stores are written out: through {@link #store}, which C2 did
     * not inline into a kernel this size, the vectors were boxed (a four-group Q4_0 kernel so written decoded at
     * 600-690 tokens/s against the pairs' 810-920).
     */
    private static void quadQ8(InterleavedBlocks w, ActivationBlocks a, int i, int g, int apartGroups, float[] y,
                               int yo) {
        int blocks = w.blocks;
        int[] q = a.q;
        MemorySegment scales = w.scales;
        MemorySegment quants = w.quants;
        long apart = (long) apartGroups * blocks * Quantization.QK * ROWS;
        int scalesApart = apartGroups * blocks * ROWS;
        FloatVector ge = FloatVector.zero(F);
        FloatVector go = ge, he = ge, ho = ge, ue = ge, uo = ge, ve = ge, vo = ge;
        for (int b = 0; b < blocks; b++) {
            IntVector sge = IntVector.zero(I);
            IntVector sgo = sge, she = sge, sho = sge, sue = sge, suo = sge, sve = sge, svo = sge;
            long at = ((long) g * blocks + b) * Quantization.QK * ROWS;
            int qi = (i * blocks + b) * Quantization.QK;
            // each group's block through a slice of its own, as pairQ4 reads it
            MemorySegment bg = quants.asSlice(at, Quantization.QK * ROWS);
            MemorySegment bh = quants.asSlice(at + apart, Quantization.QK * ROWS);
            MemorySegment bu = quants.asSlice(at + 2 * apart, Quantization.QK * ROWS);
            MemorySegment bv = quants.asSlice(at + 3 * apart, Quantization.QK * ROWS);
            for (int j = 0; j < Quantization.QK; j += 2) {
                short q0 = (short) q[qi + j];
                short q1 = (short) q[qi + j + 1];
                long o = (long) j * ROWS;
                IntVector pg = q8Products(bg, o, q0, q1);
                IntVector ph = q8Products(bh, o, q0, q1);
                IntVector pu = q8Products(bu, o, q0, q1);
                IntVector pv = q8Products(bv, o, q0, q1);
                sge = sge.add(pg.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                sgo = sgo.add(pg.lanewise(VectorOperators.ASHR, 16));
                she = she.add(ph.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                sho = sho.add(ph.lanewise(VectorOperators.ASHR, 16));
                sue = sue.add(pu.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                suo = suo.add(pu.lanewise(VectorOperators.ASHR, 16));
                sve = sve.add(pv.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                svo = svo.add(pv.lanewise(VectorOperators.ASHR, 16));
            }
            FloatVector d = FloatVector.broadcast(F, a.d[i * blocks + b]);
            int s = (g * blocks + b) * ROWS;
            IntVector dg = IntVector.fromMemorySegment(I, scales, (long) s * Short.BYTES, LE);
            IntVector dh = IntVector.fromMemorySegment(I, scales, (long) (s + scalesApart) * Short.BYTES, LE);
            IntVector du = IntVector.fromMemorySegment(I, scales, (long) (s + 2 * scalesApart) * Short.BYTES, LE);
            IntVector dv = IntVector.fromMemorySegment(I, scales, (long) (s + 3 * scalesApart) * Short.BYTES, LE);
            ge = ((FloatVector) sge.convert(VectorOperators.I2F, 0)).mul(d).fma(dg.lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), ge);
            go = ((FloatVector) sgo.convert(VectorOperators.I2F, 0)).mul(d).fma(dg.lanewise(VectorOperators.ASHR, 3)
                    .and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), go);
            he = ((FloatVector) she.convert(VectorOperators.I2F, 0)).mul(d).fma(dh.lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), he);
            ho = ((FloatVector) sho.convert(VectorOperators.I2F, 0)).mul(d).fma(dh.lanewise(VectorOperators.ASHR, 3)
                    .and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), ho);
            ue = ((FloatVector) sue.convert(VectorOperators.I2F, 0)).mul(d).fma(du.lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), ue);
            uo = ((FloatVector) suo.convert(VectorOperators.I2F, 0)).mul(d).fma(du.lanewise(VectorOperators.ASHR, 3)
                    .and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), uo);
            ve = ((FloatVector) sve.convert(VectorOperators.I2F, 0)).mul(d).fma(dv.lanewise(VectorOperators.LSHL, 16)
                    .lanewise(VectorOperators.ASHR, 3).and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), ve);
            vo = ((FloatVector) svo.convert(VectorOperators.I2F, 0)).mul(d).fma(dv.lanewise(VectorOperators.ASHR, 3)
                    .and(F16_BITS).reinterpretAsFloats().mul(F16_REBIAS), vo);
        }
        if ((g + 3 * apartGroups) * ROWS + ROWS <= w.rows) {
            FIRST_ROWS.selectFrom(ge, go).intoArray(y, yo + g * ROWS);
            LAST_ROWS.selectFrom(ge, go).intoArray(y, yo + g * ROWS + L);
            FIRST_ROWS.selectFrom(he, ho).intoArray(y, yo + (g + apartGroups) * ROWS);
            LAST_ROWS.selectFrom(he, ho).intoArray(y, yo + (g + apartGroups) * ROWS + L);
            FIRST_ROWS.selectFrom(ue, uo).intoArray(y, yo + (g + 2 * apartGroups) * ROWS);
            LAST_ROWS.selectFrom(ue, uo).intoArray(y, yo + (g + 2 * apartGroups) * ROWS + L);
            FIRST_ROWS.selectFrom(ve, vo).intoArray(y, yo + (g + 3 * apartGroups) * ROWS);
            LAST_ROWS.selectFrom(ve, vo).intoArray(y, yo + (g + 3 * apartGroups) * ROWS + L);
        } else {
            store(FIRST_ROWS.selectFrom(ge, go), LAST_ROWS.selectFrom(ge, go), w.rows, g, y, yo);
            store(FIRST_ROWS.selectFrom(he, ho), LAST_ROWS.selectFrom(he, ho), w.rows, g + apartGroups, y, yo);
            store(FIRST_ROWS.selectFrom(ue, uo), LAST_ROWS.selectFrom(ue, uo), w.rows, g + 2 * apartGroups, y, yo);
            store(FIRST_ROWS.selectFrom(ve, vo), LAST_ROWS.selectFrom(ve, vo), w.rows, g + 3 * apartGroups, y, yo);
        }
    }

    /** Indices into (even rows, odd rows) of a group's rows {@code [2·from, 2·from + L)}: row r is lane r / 2. */
    private static FloatVector rowOrder(int from) {
        float[] index = new float[L];
        for (int r = 0; r < L; r++) {
            index[r] = (r % 2 == 0 ? 0 : L) + from + r / 2;
        }
        return FloatVector.fromArray(F, index, 0);
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
