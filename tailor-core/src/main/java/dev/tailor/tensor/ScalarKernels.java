package dev.tailor.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain scalar twins of the optimized kernels: the test oracles. Weights are read element by element through
 * {@link WeightMatrix#get}, so the products are also the twins of the Q8_0/Q4_0 kernels.
 */
public final class ScalarKernels {
    private ScalarKernels() {
    }

    /** {@link VectorMath#argmax}: the first position of the largest number in {@code x[off, off + len)}, else −1. */
    public static int argmax(float[] x, int off, int len) {
        int best = -1;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            if (x[off + i] > bestValue || best < 0 && x[off + i] == bestValue) {
                best = i;
                bestValue = x[off + i];
            }
        }
        return best;
    }

    /** {@code y[i, j] = Σ_k x[i, k] · w[j, k]}, see {@link MatMul#matmulTransposed}. */
    public static void matmulTransposed(float[] x, int m, WeightMatrix w, float[] y) {
        int n = w.rows();
        int k = w.cols();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int c = 0; c < k; c++) {
                    sum += x[i * k + c] * w.get(j, c);
                }
                y[i * n + j] = sum;
            }
        }
    }

    /**
     * {@link IntegerGemv}'s product over Q4_0 weights, one output at a time from the weights' own bytes: X quantized
     * by {@link ActivationBlocks}; per block, the integer sum of (nibble - 8) times q over its 32 elements as a float,
     * {@code t = S·x_d}, then {@code y = fma(t, w_d, y)}.
     */
    public static void matmulTransposedQ4Integer(float[] x, int m, WeightMatrix w, float[] y) {
        integerProduct(x, m, w, y, DType.Q4_0, (data, at, a, q, block) -> {
            int s = 0;
            for (int e = 0; e < 16; e++) {
                int nibbles = data.get(ValueLayout.JAVA_BYTE, at + 2 + e) & 0xFF;
                s += ((nibbles & 15) - 8) * a.q[q + e] + ((nibbles >>> 4) - 8) * a.q[q + 16 + e];
            }
            return (float) s * a.d[block];
        });
    }

    /**
     * {@link IntegerGemv}'s product over Q8_0 weights, one output at a time from the weights' own bytes: X quantized
     * by {@link ActivationBlocks}; per block, the integer sum of quant times q over its 32 elements as a float,
     * {@code t = S·x_d}, then {@code y = fma(t, w_d, y)}.
     */
    public static void matmulTransposedQ8Integer(float[] x, int m, WeightMatrix w, float[] y) {
        integerProduct(x, m, w, y, DType.Q8_0, (data, at, a, q, block) -> {
            int s = 0;
            for (int e = 0; e < Quantization.QK; e++) {
                s += data.get(ValueLayout.JAVA_BYTE, at + 2 + e) * a.q[q + e];
            }
            return (float) s * a.d[block];
        });
    }

    /** A block's term {@code t} of an integer product: W's block at byte {@code at}, X's block {@code block}. */
    private interface BlockTerm {
        float of(MemorySegment data, long at, ActivationBlocks a, int q, int block);
    }

    /** The integer products' common loop: {@code y = fma(t, w_d, y)} over the blocks in order. */
    private static void integerProduct(float[] x, int m, WeightMatrix w, float[] y, DType type, BlockTerm term) {
        if (w.dtype() != type) {
            throw new IllegalArgumentException("not a " + type + " matrix: " + w.dtype());
        }
        int n = w.rows();
        int k = w.cols();
        int blocks = k / Quantization.QK;
        ActivationBlocks a = ActivationBlocks.scalar(x, 0, m, k);
        MemorySegment data = w.data();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int b = 0; b < blocks; b++) {
                    long at = j * w.rowBytes() + (long) b * type.blockBytes();
                    float t = term.of(data, at, a, (i * blocks + b) * Quantization.QK, i * blocks + b);
                    sum = Math.fma(t, Float.float16ToFloat(data.get(Numerics.I16_LE, at)), sum);
                }
                y[i * n + j] = sum;
            }
        }
    }

    /**
     * {@link MatMul#matmulTransposed} with exactly the operations of its streaming kernel ({@link Gemv}) on vectors of
     * {@code lanes} floats, one lane at a time, so the two agree bit for bit. Per output, one accumulator of
     * {@code lanes} floats takes column c in lane {@code c mod lanes} by fused multiply-adds while a whole vector of
     * columns is left; its lanes are summed by halves ({@link VectorMath#sum}), and the last {@code k mod lanes}
     * columns added one product at a time. BF16 weights take their columns in blocks of {@code 2·lanes} (lane l
     * column {@code c + 2l}, then {@code c + 2l + 1}) and the last {@code k mod 2·lanes} one at a time.
     */
    public static void matmulTransposedStreamingOrder(float[] x, int m, WeightMatrix w, float[] y, int lanes) {
        int n = w.rows();
        int k = w.cols();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float[] a = new float[lanes];
                int c = 0;
                if (w.dtype() == DType.BF16) {
                    for (; c + 2 * lanes <= k; c += 2 * lanes) {
                        for (int l = 0; l < lanes; l++) {
                            a[l] = Math.fma(w.get(j, c + 2 * l), x[i * k + c + 2 * l], a[l]);
                            a[l] = Math.fma(w.get(j, c + 2 * l + 1), x[i * k + c + 2 * l + 1], a[l]);
                        }
                    }
                } else {
                    for (; c + lanes <= k; c += lanes) {
                        for (int l = 0; l < lanes; l++) {
                            a[l] = Math.fma(w.get(j, c + l), x[i * k + c + l], a[l]);
                        }
                    }
                }
                for (int half = lanes / 2; half >= 1; half /= 2) {
                    for (int l = 0; l < half; l++) {
                        a[l] += a[l + half];
                    }
                }
                float sum = a[0];
                for (; c < k; c++) {
                    sum += x[i * k + c] * w.get(j, c);
                }
                y[i * n + j] = sum;
            }
        }
    }

    /**
     * {@link MatMul#matmulTransposed} with exactly the operations of {@link PanelGemv}, the products of an F32 or
     * BF16 matrix mapped from a file, so the two agree bit for bit: per output, one fused multiply-add per column in
     * order from zero, {@code a = fma(x[i, c], w[j, c], a)}.
     */
    public static void matmulTransposedPanelOrder(float[] x, int m, WeightMatrix w, float[] y) {
        int n = w.rows();
        int k = w.cols();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float a = 0f;
                for (int c = 0; c < k; c++) {
                    a = Math.fma(w.get(j, c), x[i * k + c], a);
                }
                y[i * n + j] = a;
            }
        }
    }

    /** RMSNorm, see {@link Ops#rmsNorm}. */
    public static float rmsNorm(float[] x, int xOff, float[] weight, float eps, float[] out, int outOff, int dim) {
        float ss = 0f;
        for (int i = 0; i < dim; i++) {
            ss += x[xOff + i] * x[xOff + i];
        }
        float inv = 1f / (float) Math.sqrt(ss / dim + eps);
        for (int i = 0; i < dim; i++) {
            out[outOff + i] = x[xOff + i] * inv * weight[i];
        }
        return inv;
    }

    /** Rotate-half RoPE in place, see {@link Ops#rope}. */
    public static void rope(float[] x, int off, int nHeads, int headDim, int pos, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int h = 0; h < nHeads; h++) {
            int b = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float c = cos[pos * half + i];
                float s = sin[pos * half + i];
                float x1 = x[b + i];
                float x2 = x[b + half + i];
                x[b + i] = x1 * c - x2 * s;
                x[b + half + i] = x2 * c + x1 * s;
            }
        }
    }

    /** Softmax in place, see {@link Ops#softmax}. */
    public static void softmax(float[] x, int off, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0f;
        for (int i = 0; i < len; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        for (int i = 0; i < len; i++) {
            x[off + i] /= sum;
        }
    }

    /** {@code y[r, j] += bias[j]}, see {@link Ops#addBias}. */
    public static void addBias(float[] y, int rows, float[] bias) {
        int n = bias.length;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) {
                y[r * n + j] += bias[j];
            }
        }
    }

    /** {@code out = silu(gate) · up}, see {@link Ops#siluMul}. */
    public static void siluMul(float[] gate, float[] up, float[] out, int off, int len) {
        for (int i = off; i < off + len; i++) {
            out[i] = gate[i] / (1f + (float) Math.exp(-gate[i])) * up[i];
        }
    }

    /** Dot product, see {@link Ops#dot}. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        float sum = 0f;
        for (int i = 0; i < len; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** {@code y += a · x}, see {@link Ops#axpy}. */
    public static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int len) {
        for (int i = 0; i < len; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    /** The first element of {@code data} that widens to a non-finite float, or -1, see {@link FiniteScan}. */
    public static long firstNonFinite(MemorySegment data, DType dtype) {
        long n = data.byteSize() / dtype.byteSize();
        for (long i = 0; i < n; i++) {
            if (!Float.isFinite(Numerics.load(data, dtype, i))) {
                return i;
            }
        }
        return -1;
    }
}
