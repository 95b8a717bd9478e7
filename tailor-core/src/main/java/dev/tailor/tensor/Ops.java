package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Element-wise kernels of the forward pass, vectorized at the preferred species width with scalar tails.
 * Each has a scalar twin of the same name in {@link ScalarKernels}; results agree with it up to float
 * summation order (and, for {@code exp}, the vector library's last-ulp rounding). Arrays are addressed by
 * offset so callers can work on rows of larger activation buffers.
 */
public final class Ops {
    /** Element-wise loops at least this long are split across the kernel threads. */
    private static final int PARALLEL_ELEMENTS = 1 << 15;

    private Ops() {
    }

    /**
     * RMSNorm as in HF Llama (float32): {@code out = x · rstd · weight} with {@code rstd = 1/sqrt(mean(x²) + eps)}
     * over {@code dim} elements of x from {@code xOff}, written to out from {@code outOff} (may be the same place as
     * x). {@code rstd} is {@code 1/sqrt} in float32: the square root and the division are each rounded to float.
     *
     * @return the row's {@code rstd}, which the training backward keeps
     */
    public static float rmsNorm(float[] x, int xOff, float[] weight, float eps, float[] out, int outOff, int dim) {
        int bound = F.loopBound(dim);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i);
            acc = v.fma(v, acc);
        }
        float ss = VectorMath.sum(acc);
        for (; i < dim; i++) {
            ss += x[xOff + i] * x[xOff + i];
        }
        float inv = 1f / (float) Math.sqrt(ss / dim + eps);
        i = 0;
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i).mul(inv);
            v.mul(FloatVector.fromArray(F, weight, i)).intoArray(out, outOff + i);
        }
        for (; i < dim; i++) {
            out[outOff + i] = x[xOff + i] * inv * weight[i];
        }
        return inv;
    }

    /**
     * Rotary embedding in place, HF "rotate half" layout: for each of {@code nHeads} heads of {@code headDim}
     * starting at {@code off}, and {@code i < headDim/2}: {@code (x1, x2) = (x[i], x[i + half])} becomes
     * {@code (x1·cos − x2·sin, x2·cos + x1·sin)}, with cos and sin from row {@code pos} of the
     * {@code [positions][half]} tables of {@link RopeTables}.
     */
    public static void rope(float[] x, int off, int nHeads, int headDim, int pos, float[] cos, float[] sin) {
        int half = headDim / 2;
        int t = pos * half;
        int bound = F.loopBound(half);
        for (int h = 0; h < nHeads; h++) {
            int b = off + h * headDim;
            int i = 0;
            for (; i < bound; i += L) {
                FloatVector x1 = FloatVector.fromArray(F, x, b + i);
                FloatVector x2 = FloatVector.fromArray(F, x, b + half + i);
                FloatVector c = FloatVector.fromArray(F, cos, t + i);
                FloatVector s = FloatVector.fromArray(F, sin, t + i);
                x1.mul(c).sub(x2.mul(s)).intoArray(x, b + i);
                x2.mul(c).add(x1.mul(s)).intoArray(x, b + half + i);
            }
            for (; i < half; i++) {
                float x1 = x[b + i];
                float x2 = x[b + half + i];
                x[b + i] = x1 * cos[t + i] - x2 * sin[t + i];
                x[b + half + i] = x2 * cos[t + i] + x1 * sin[t + i];
            }
        }
    }

    /** Softmax in place over {@code x[off, off + len)}: {@code exp(x − max) / Σ exp(x − max)}. */
    public static void softmax(float[] x, int off, int len) {
        int bound = F.loopBound(len);
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < bound; i += L) {
            vmax = vmax.max(FloatVector.fromArray(F, x, off + i));
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < len; i++) {
            max = Math.max(max, x[off + i]);
        }
        FloatVector vsum = FloatVector.zero(F);
        i = 0;
        for (; i < bound; i += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, off + i).sub(max));
            e.intoArray(x, off + i);
            vsum = vsum.add(e);
        }
        float sum = VectorMath.sum(vsum);
        for (; i < len; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, x, off + i).div(sum).intoArray(x, off + i);
        }
        for (; i < len; i++) {
            x[off + i] /= sum;
        }
    }

    /**
     * {@code out[i] = a[i] + b[i]} for {@code i < len} (out may be a or b): a residual connection, or two gradient
     * contributions summed; split over the kernel threads when long.
     */
    public static void add(float[] a, float[] b, float[] out, int len) {
        if (len >= PARALLEL_ELEMENTS) {
            Parallel.parallelForChunks(0, len, L, (from, to) -> addSerial(a, b, out, from, to));
        } else {
            addSerial(a, b, out, 0, len);
        }
    }

    private static void addSerial(float[] a, float[] b, float[] out, int from, int to) {
        int bound = from + F.loopBound(to - from);
        int i = from;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(out, i);
        }
        for (; i < to; i++) {
            out[i] = a[i] + b[i];
        }
    }

    /**
     * A linear layer's bias: {@code y[r, j] += bias[j]} for each of the {@code rows} rows of width
     * {@code bias.length}.
     */
    public static void addBias(float[] y, int rows, float[] bias) {
        int n = bias.length;
        int bound = F.loopBound(n);
        for (int r = 0; r < rows; r++) {
            int off = r * n;
            int i = 0;
            for (; i < bound; i += L) {
                FloatVector.fromArray(F, y, off + i).add(FloatVector.fromArray(F, bias, i)).intoArray(y, off + i);
            }
            for (; i < n; i++) {
                y[off + i] += bias[i];
            }
        }
    }

    /** SwiGLU's gate: {@code out[i] = silu(gate[i]) · up[i]} with {@code silu(g) = g / (1 + exp(−g))}, over {@code [off, off + len)}. */
    public static void siluMul(float[] gate, float[] up, float[] out, int off, int len) {
        if (len >= PARALLEL_ELEMENTS) {
            Parallel.parallelForChunks(off, len, L, (from, to) -> siluMulSerial(gate, up, out, from, to - from));
        } else {
            siluMulSerial(gate, up, out, off, len);
        }
    }

    private static void siluMulSerial(float[] gate, float[] up, float[] out, int off, int len) {
        int end = off + len;
        int bound = off + F.loopBound(len);
        int i = off;
        for (; i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            FloatVector e = VectorMath.exp(g.neg());
            g.div(e.add(1f)).mul(FloatVector.fromArray(F, up, i)).intoArray(out, i);
        }
        for (; i < end; i++) {
            float g = gate[i];
            out[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    /** {@code Σ a[aOff + i] · b[bOff + i]} for {@code i < len}. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        int bound = F.loopBound(len);
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        int i = 0;
        for (; i + 2 * L <= bound; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), acc1);
        }
        for (; i < bound; i += L) {
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
        }
        float sum = VectorMath.sum(acc0.add(acc1));
        for (; i < len; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** {@code y[yOff + i] += a · x[xOff + i]} for {@code i < len} (attention's weighted sum of values). */
    public static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int len) {
        int bound = F.loopBound(len);
        FloatVector va = FloatVector.broadcast(F, a);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, x, xOff + i).fma(va, FloatVector.fromArray(F, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < len; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }
}
