package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.I;
import static dev.tailor.tensor.WeightVectors.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * Rows of X quantized to 8 bits per block of 32, as llama.cpp quantizes the activations it multiplies with
 * block-quantized weights (its {@code block_q8_0}): per block, the scale {@code d = amax / 127} and the values
 * {@code q = round(x · (1 / d))}, rounded half away from zero, so {@code |q| ≤ 127}. The scale stays a float (llama.cpp
 * rounds it to F16). Each block also keeps {@code Σq}, whose {@code -8} times is the term a Q4_0 block's offset of 8
 * adds to its sum ({@link IntegerGemv}), and on demand the multipliers of its Q4_0 nibbles
 * ({@link #q4Multipliers()}). A block whose scale is zero or subnormal (its largest |x| below about 1.5e-36) has all q
 * zero; a block with an infinite or NaN value has all q zero and an infinite or NaN scale, so the products it enters
 * are NaN, as the float products would be non-finite. {@link #of}
 * works on vectors, {@link #scalar} one value at a time, with the same results.
 */
final class ActivationBlocks {
    /** The largest |q|. */
    static final int Q_MAX = 127;
    private static final int QK = Quantization.QK;

    /**
     * This thread's blocks for {@link #reused}: a decoding step quantizes the input of every product it runs, and
     * fresh arrays for each were a third of what a step allocated.
     */
    private static final ThreadLocal<ActivationBlocks> REUSED = new ThreadLocal<>();
    /**
     * For 16-lane vectors ({@link #q4MultiplierVectors}), per half v of a block's 32 multipliers: lane l takes the
     * q of element {@code 2·(4v + l/4)} (EVEN) or the one after it (ODD), within the block's first or second 16.
     */
    private static final VectorShuffle<Integer> EVEN_0 = pairShuffle(0, 0);
    private static final VectorShuffle<Integer> ODD_0 = pairShuffle(0, 1);
    private static final VectorShuffle<Integer> EVEN_1 = pairShuffle(1, 0);
    private static final VectorShuffle<Integer> ODD_1 = pairShuffle(1, 1);
    /**
     * Per lane l (multiplier {@code l mod 4} of its pair), the coefficients of q0, q1, q2 and q3 in the byte-exchange
     * form, the one 16-lane vectors take ({@link IntegerGemv#EXCHANGE_BYTES}).
     */
    private static final IntVector[] COEFFICIENTS = exchangeCoefficients();

    /** The quantized values, {@code [m, k]} row-major (the arrays may be longer than the rows need). */
    final int[] q;
    /** Per block of 32 ({@code [m, k / 32]}), its scale. */
    final float[] d;
    /** Per block, {@code Σq}. */
    final int[] sums;
    /** Values the rows hold, {@code m·k}. */
    private int values;
    /** The buffer of {@link #q4Multipliers()}, as long as {@code q}. */
    private int[] q4Multipliers;
    /** Whether {@link #q4Multipliers} holds the multipliers of the values now held. */
    private boolean q4Made;

    private ActivationBlocks(int capacity) {
        q = new int[capacity];
        d = new float[capacity / QK];
        sums = new int[capacity / QK];
    }

    /**
     * The {@code m} rows of {@code k} floats at {@code x[xOff]} quantized block by block.
     *
     * @throws IllegalArgumentException if {@code k} is not a multiple of 32
     */
    static ActivationBlocks of(float[] x, int xOff, int m, int k) {
        return quantized(x, xOff, m, k, true);
    }

    /** {@link #of}, one value at a time: the reference the vectors are checked against. */
    static ActivationBlocks scalar(float[] x, int xOff, int m, int k) {
        return quantized(x, xOff, m, k, false);
    }

    /**
     * {@link #of} into this thread's blocks, made again only when they are too small: valid until the thread's next
     * call, so only for a product that is done with them before it returns (its tasks read them while it waits).
     *
     * @throws IllegalArgumentException if {@code k} is not a multiple of 32
     */
    static ActivationBlocks reused(float[] x, int xOff, int m, int k) {
        ActivationBlocks a = REUSED.get();
        if (a == null || a.q.length < m * k) {
            a = new ActivationBlocks(m * k);
            REUSED.set(a);
        }
        return a.fill(x, xOff, m, k, true);
    }

    private static ActivationBlocks quantized(float[] x, int xOff, int m, int k, boolean vectors) {
        return new ActivationBlocks(m * k).fill(x, xOff, m, k, vectors);
    }

    private ActivationBlocks fill(float[] x, int xOff, int m, int k, boolean vectors) {
        if (k % QK != 0) {
            throw new IllegalArgumentException("8-bit activation blocks need a multiple of 32 columns, got " + k);
        }
        values = m * k;
        q4Made = false;
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < k; c += QK) {
                if (vectors) {
                    quantizeVectors(x, xOff + i * k + c, i * k + c);
                } else {
                    quantizeScalar(x, xOff + i * k + c, i * k + c);
                }
            }
        }
        return this;
    }

    /** The block's {@code 1 / d}, or 0 where d is zero or subnormal (its inverse would overflow). */
    private static float inverse(float scale) {
        return scale < Float.MIN_NORMAL ? 0f : 1f / scale;
    }

    private void quantizeScalar(float[] x, int from, int to) {
        float amax = 0f;
        for (int c = 0; c < QK; c++) {
            amax = Math.max(amax, Math.abs(x[from + c]));
        }
        float scale = amax / Q_MAX;
        float inverse = inverse(scale);
        int sum = 0;
        for (int c = 0; c < QK; c++) {
            int v = (int) Quantization.roundHalfAway(x[from + c] * inverse);
            q[to + c] = v;
            sum += v;
        }
        d[to / QK] = scale;
        sums[to / QK] = sum;
    }

    /**
     * Per block, for each pair of a Q4_0 block's quant bytes j and j + 1 (j even: four nibbles, elements
     * {@code e0 = j, e1 = j + 16, e2 = j + 1, e3 = j + 17}, with {@code q_t = q[e_t]}), the four multipliers of
     * {@link #q4Multipliers(int, int, int, int, boolean, int[], int)} in the form {@link IntegerGemv} uses on this
     * machine ({@link IntegerGemv#EXCHANGE_BYTES}), each held twice in an int (its 16 bits in both halves), so that a
     * kernel broadcasts it to 16-bit lanes by one load of an int (on an AMD Zen 3 the kernel ran 11% faster than
     * with a short's load, move and broadcast). Laid out as {@code q}: 32 per block, the pair of byte j at
     * {@code 2j}. Made on the first call after the values were quantized, only for products over Q4_0 weights; not
     * thread-safe, so called on the thread that shares these blocks with the product's tasks.
     */
    int[] q4Multipliers() {
        if (!q4Made) {
            if (q4Multipliers == null || q4Multipliers.length < q.length) {
                q4Multipliers = new int[q.length];
            }
            if (L == 16) {
                q4MultiplierVectors(q, values, q4Multipliers);
            } else {
                q4MultipliersScalar(q, values, IntegerGemv.EXCHANGE_BYTES, q4Multipliers);
            }
            q4Made = true;
        }
        return q4Multipliers;
    }

    /** {@link #q4Multipliers()} of the first {@code values} of {@code q} into {@code m}, one pair at a time. */
    static void q4MultipliersScalar(int[] q, int values, boolean exchange, int[] m) {
        for (int to = 0; to < values; to += QK) {
            for (int j = 0; j < QK / 2; j += 2) {
                q4Multipliers(q[to + j], q[to + j + QK / 2], q[to + j + 1], q[to + j + 1 + QK / 2], exchange, m,
                        to + 2 * j);
            }
        }
    }

    /**
     * {@link #q4MultipliersScalar} in the byte-exchange form on 16-lane vectors ({@code L == 16}): per half of a
     * block, each q of the four nibbles moved to the lanes of its pair's multipliers by a permutation, then each
     * multiplier one sum of the four times its coefficients. Decoding a token makes these for every product's input
     * on one thread while the other waits: on an Intel Xeon 390 ns per 1,536 values against 1,220 one pair at a
     * time, ~15 µs less of a Q4_0 token's ~1 ms.
     */
    static void q4MultiplierVectors(int[] q, int values, int[] m) {
        IntVector c0 = COEFFICIENTS[0];
        IntVector c1 = COEFFICIENTS[1];
        IntVector c2 = COEFFICIENTS[2];
        IntVector c3 = COEFFICIENTS[3];
        for (int to = 0; to < values; to += QK) {
            IntVector lo = IntVector.fromArray(I, q, to);
            IntVector hi = IntVector.fromArray(I, q, to + L);
            // written out, not through a helper returning a vector: one C2 did not inline would box it
            lo.rearrange(EVEN_0).mul(c0).add(hi.rearrange(EVEN_0).mul(c1)).add(lo.rearrange(ODD_0).mul(c2))
                    .add(hi.rearrange(ODD_0).mul(c3)).and(0xFFFF).mul(0x10001).intoArray(m, to);
            lo.rearrange(EVEN_1).mul(c0).add(hi.rearrange(EVEN_1).mul(c1)).add(lo.rearrange(ODD_1).mul(c2))
                    .add(hi.rearrange(ODD_1).mul(c3)).and(0xFFFF).mul(0x10001).intoArray(m, to + L);
        }
    }

    /** {@link #EVEN_0} and the others; unused (and the identity) when vectors are not 16 lanes wide. */
    private static VectorShuffle<Integer> pairShuffle(int half, int odd) {
        int[] index = new int[L];
        for (int l = 0; l < L; l++) {
            index[l] = L == 16 ? 2 * (4 * half + l / 4) + odd : l;
        }
        return VectorShuffle.fromArray(I, index, 0);
    }

    /**
     * Per q (0 to 3), the vector of its coefficient in each lane's multiplier ({@code l mod 4}), as
     * {@link #q4Multipliers(int, int, int, int, boolean, int[], int)} writes them with byte exchanges.
     */
    private static IntVector[] exchangeCoefficients() {
        int[][] byMultiplier = {{1, 4096, -256, 0}, {-16, 1, 4096, -256}, {0, -16, 1, 0}, {0, 0, -16, 1}};
        IntVector[] out = new IntVector[4];
        for (int i = 0; i < 4; i++) {
            int[] lanes = new int[L];
            for (int l = 0; l < L; l++) {
                lanes[l] = byMultiplier[l % 4][i];
            }
            out[i] = IntVector.fromArray(I, lanes, 0);
        }
        return out;
    }

    /**
     * Writes to {@code m[at..at + 3]} the multipliers {@code m0..m3}, each in both halves of its int, that give, for a
     * pair of Q4_0 quant bytes as one 16-bit value {@code s = n0 + 16·n1 + 256·n2 + 4096·n3}, the nibbles' products
     * {@code Σ_t n_t·q_t} modulo 2^16 (so exactly where that sum fits 16 bits). With {@code exchange}:
     * {@code s·m0 + v·m1 + swap(s)·m2 + swap(v)·m3} for {@code v = s >>> 4} and {@code swap} exchanging a value's two
     * bytes, {@code m0 = q0 + 4096·q1 - 256·q2},
     * {@code m1 = -16·q0 + q1 + 4096·q2 - 256·q3} (the system's matrix is the identity modulo 2, so it has an
     * inverse modulo 2^16, and these are its rows). Without: {@code s·m0 + (s >>> 4)·m1 + (s >>> 8)·m2 +
     * (s >>> 12)·m3} in 16 bits, {@code m0 = q0}, {@code m1 = -16·q0 + q1}. Both: {@code m2 = -16·q1 + q2},
     * {@code m3 = -16·q2 + q3}.
     */
    static void q4Multipliers(int q0, int q1, int q2, int q3, boolean exchange, int[] m, int at) {
        m[at] = twice(exchange ? q0 + 4096 * q1 - 256 * q2 : q0);
        m[at + 1] = twice(exchange ? -16 * q0 + q1 + 4096 * q2 - 256 * q3 : -16 * q0 + q1);
        m[at + 2] = twice(-16 * q1 + q2);
        m[at + 3] = twice(-16 * q2 + q3);
    }

    /** {@code v}'s low 16 bits in both halves of an int. */
    private static int twice(int v) {
        return (v & 0xFFFF) * 0x10001;
    }

    /**
     * {@link #quantizeScalar} on vectors. Rounding half away from zero as {@code t + (|v| - t ≥ 0.5)} with
     * {@code t = trunc(|v|)}, the sign put back after: exact where {@code |v| + 0.5} in floats would round 0.49999997 up.
     */
    private void quantizeVectors(float[] x, int from, int to) {
        FloatVector amax = FloatVector.zero(F);
        for (int c = 0; c < QK; c += L) {
            amax = amax.max(FloatVector.fromArray(F, x, from + c).abs());
        }
        float scale = amax.reduceLanes(VectorOperators.MAX) / Q_MAX;
        float inverse = inverse(scale);
        IntVector sum = IntVector.zero(I);
        for (int c = 0; c < QK; c += L) {
            FloatVector v = FloatVector.fromArray(F, x, from + c).mul(inverse);
            FloatVector a = v.abs();
            IntVector t = (IntVector) a.convert(VectorOperators.F2I, 0);
            FloatVector fraction = a.sub((FloatVector) t.convert(VectorOperators.I2F, 0));
            t = t.add(1, fraction.compare(VectorOperators.GE, 0.5f).cast(I));
            t = t.lanewise(VectorOperators.NEG, v.compare(VectorOperators.LT, 0f).cast(I));
            t.intoArray(q, to + c);
            sum = sum.add(t);
        }
        d[to / QK] = scale;
        sums[to / QK] = sum.reduceLanes(VectorOperators.ADD);
    }
}
