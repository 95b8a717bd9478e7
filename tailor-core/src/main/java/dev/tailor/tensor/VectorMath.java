package dev.tailor.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Transcendental functions on vectors built only from IEEE additions, multiplications and FMAs, so they give the
 * same bits in the interpreter, C1 and C2. (The Vector API's {@code lanewise(EXP)} is a library intrinsic once
 * compiled and a scalar loop before, and the two can differ in the last bit, which would make a training run
 * depend on how warm the JIT is and break exact resume.)
 */
public final class VectorMath {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5·2²³: adding and subtracting it rounds a float of magnitude below 2²² to the nearest integer. */
    private static final float ROUND = 12582912f;
    private static final float MAX = 88.3762626647949f;
    private static final float MIN = -87.3365447505531f;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();
    /**
     * {@code ROTATE_n} moves lane i + n to lane i (mod the lane count): the steps of a fixed-order tree sum, taken by
     * {@link #sum(FloatVector)} (and by kernels that sum several vectors' lanes side by side) in the order 8, 4, 2, 1,
     * each step only where the vector has more than n lanes. The steps are written out with these constants rather
     * than looped over an array of shuffles: C2 cannot take an array element for a constant, and with the shuffle
     * loaded the lane sums of a 4×4 F32 tile took as long as its products (one thread on an AMD Zen 5, K = 576:
     * 110 GFLOP/s against 190 with the constants). The product kernels write these steps out for their accumulators
     * side by side rather than calling {@link #sum(FloatVector)} per output: in kernels their size C2 does not inline
     * the calls (the tile with a call per output: 85–145 GFLOP/s), so the same few lines stand in each of them.
     */
    static final VectorShuffle<Float> ROTATE_8 = VectorShuffle.iota(F, 8, 1, true);
    /** See {@link #ROTATE_8}. */
    static final VectorShuffle<Float> ROTATE_4 = VectorShuffle.iota(F, 4, 1, true);
    /** See {@link #ROTATE_8}. */
    static final VectorShuffle<Float> ROTATE_2 = VectorShuffle.iota(F, 2, 1, true);
    /** See {@link #ROTATE_8}. */
    static final VectorShuffle<Float> ROTATE_1 = VectorShuffle.iota(F, 1, 1, true);

    static {
        if (LANES > 16) {
            throw new IllegalStateException("lane sums are written for at most 16 float lanes, not " + LANES);
        }
    }

    private VectorMath() {
    }

    /**
     * {@code e^x} per lane (Cephes' {@code expf}: range reduction by ln 2, degree-6 polynomial, scaling by
     * {@code 2^n}); relative error below 2·10⁻⁷; inputs are clamped to the float range, so large negative inputs
     * give the smallest normal float rather than zero.
     */
    public static FloatVector exp(FloatVector x) {
        VectorSpecies<Float> s = x.species();
        FloatVector v = x.max(MIN).min(MAX);
        FloatVector n = v.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(s, -LN2_HI), v);
        r = n.fma(FloatVector.broadcast(s, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(s, 1.9875691500e-4f);
        p = p.fma(r, FloatVector.broadcast(s, 1.3981999507e-3f));
        p = p.fma(r, FloatVector.broadcast(s, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(s, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(s, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(s, 5.0000001201e-1f));
        p = p.fma(r.mul(r), r).add(1f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    /**
     * Sum of the lanes of a preferred-species vector in a fixed tree order (halves, then quarters …), unlike
     * {@code reduceLanes(ADD)}, whose order may differ between the intrinsic and its fallback.
     */
    public static float sum(FloatVector v) {
        FloatVector acc = v;
        if (LANES > 8) {
            acc = acc.add(acc.rearrange(ROTATE_8));
        }
        if (LANES > 4) {
            acc = acc.add(acc.rearrange(ROTATE_4));
        }
        if (LANES > 2) {
            acc = acc.add(acc.rearrange(ROTATE_2));
        }
        return acc.add(acc.rearrange(ROTATE_1)).lane(0);
    }

    /** The largest of {@code x[off, off + len)}, −∞ when empty. */
    public static float max(float[] x, int off, int len) {
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int bound = F.loopBound(len);
        int i = 0;
        for (; i < bound; i += F.length()) {
            vmax = vmax.max(FloatVector.fromArray(F, x, off + i));
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < len; i++) {
            max = Math.max(max, x[off + i]);
        }
        return max;
    }

    /**
     * The position (counted from {@code off}) of the largest value in {@code x[off, off + len)}, the lowest among
     * equals; NaN is never chosen, and −1 when no value is a number. A greedy sampler's choice over a vocabulary: the
     * largest value by vector lanes (a lane takes a value only when it is greater, so NaN never enters), then the first
     * place that holds it. {@link ScalarKernels#argmax} is its scalar twin.
     */
    public static int argmax(float[] x, int off, int len) {
        FloatVector best = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int bound = F.loopBound(len);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            best = best.blend(v, v.compare(VectorOperators.GT, best));
        }
        float max = best.reduceLanes(VectorOperators.MAX);
        for (; i < len; i++) {
            max = x[off + i] > max ? x[off + i] : max;
        }
        i = 0;
        for (; i < bound; i += LANES) {
            VectorMask<Float> at = FloatVector.fromArray(F, x, off + i).compare(VectorOperators.EQ, max);
            if (at.anyTrue()) {
                return i + at.firstTrue();
            }
        }
        for (; i < len; i++) {
            if (x[off + i] == max) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Replaces {@code x[off, off + len)} by {@code exp(x − shift)} (a softmax's numerators, {@code shift} the row's
     * maximum) and returns their sum: the vector lanes summed by {@link #sum}, then the tail by the scalar twin.
     */
    public static float expShiftSum(float[] x, int off, int len, float shift) {
        FloatVector vsum = FloatVector.zero(F);
        int bound = F.loopBound(len);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector e = exp(FloatVector.fromArray(F, x, off + i).sub(shift));
            e.intoArray(x, off + i);
            vsum = vsum.add(e);
        }
        float sum = sum(vsum);
        for (; i < len; i++) {
            float e = exp(x[off + i] - shift);
            x[off + i] = e;
            sum += e;
        }
        return sum;
    }

    /** The scalar twin of {@link #exp}, with the same operations in the same order. */
    public static float exp(float x) {
        float v = Math.min(Math.max(x, MIN), MAX);
        float n = v * LOG2E + ROUND - ROUND;
        float r = Math.fma(n, -LN2_HI, v);
        r = Math.fma(n, -LN2_LO, r);
        float p = 1.9875691500e-4f;
        p = Math.fma(p, r, 1.3981999507e-3f);
        p = Math.fma(p, r, 8.3334519073e-3f);
        p = Math.fma(p, r, 4.1665795894e-2f);
        p = Math.fma(p, r, 1.6666665459e-1f);
        p = Math.fma(p, r, 5.0000001201e-1f);
        p = Math.fma(p, r * r, r) + 1f;
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }
}
