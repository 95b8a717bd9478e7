package dev.tailor.tensor;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code Y = X·W} with both operands row-major float arrays: {@code y[i, j] = Σ_p x[i, p] · w[p, j]}.
 * Used where the right operand is laid out by rows of the reduction index, as attention's
 * {@code P·V} ({@code V} is {@code [positions, headDim]}).
 */
public final class MatMulNN {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Products of at least this many multiply-adds split their rows across the kernel threads. */
    private static final long PARALLEL_WORK = 1 << 18;

    private MatMulNN() {
    }

    /**
     * Overwrites {@code y[yOff + i·n + j]} for i in [0, m), j in [0, n) with {@code Σ_p x[xOff + i·k + p] ·
     * w[wOff + p·n + j]}; vectorized along j, one output row held in registers while streaming rows of W; large
     * products split their rows across the kernel threads (each row is computed alike either way).
     */
    public static void matmul(float[] x, int xOff, int m, int k, float[] w, int wOff, int n, float[] y, int yOff) {
        run(x, xOff, m, k, w, wOff, n, y, yOff, false);
    }

    /**
     * Adds {@code Σ_p x[xOff + i·k + p] · w[wOff + p·n + j]} to {@code y[yOff + i·n + j]} (the sum first, then the
     * one addition into y), for i in [0, m), j in [0, n): {@link #matmul} without a temporary and a second pass.
     */
    public static void matmulAdd(float[] x, int xOff, int m, int k, float[] w, int wOff, int n, float[] y,
                                 int yOff) {
        run(x, xOff, m, k, w, wOff, n, y, yOff, true);
    }

    private static void run(float[] x, int xOff, int m, int k, float[] w, int wOff, int n, float[] y, int yOff,
                            boolean add) {
        if (m >= 2 * Parallel.threads() && (long) m * k * n >= PARALLEL_WORK) {
            Parallel.parallelForRange(m, (i0, i1) -> rows(x, xOff, i0, i1, k, w, wOff, n, y, yOff, add));
        } else {
            rows(x, xOff, 0, m, k, w, wOff, n, y, yOff, add);
        }
    }

    private static void rows(float[] x, int xOff, int i0, int i1, int k, float[] w, int wOff, int n, float[] y,
                             int yOff, boolean add) {
        int bound = S.loopBound(n);
        for (int i = i0; i < i1; i++) {
            int xRow = xOff + i * k;
            int yRow = yOff + i * n;
            int j = 0;
            for (; j + 2 * S.length() <= n; j += 2 * S.length()) {
                FloatVector acc0 = FloatVector.zero(S);
                FloatVector acc1 = FloatVector.zero(S);
                for (int p = 0; p < k; p++) {
                    FloatVector a = FloatVector.broadcast(S, x[xRow + p]);
                    int wRow = wOff + p * n + j;
                    acc0 = FloatVector.fromArray(S, w, wRow).fma(a, acc0);
                    acc1 = FloatVector.fromArray(S, w, wRow + S.length()).fma(a, acc1);
                }
                if (add) {
                    acc0 = acc0.add(FloatVector.fromArray(S, y, yRow + j));
                    acc1 = acc1.add(FloatVector.fromArray(S, y, yRow + j + S.length()));
                }
                acc0.intoArray(y, yRow + j);
                acc1.intoArray(y, yRow + j + S.length());
            }
            for (; j < bound; j += S.length()) {
                FloatVector acc = FloatVector.zero(S);
                for (int p = 0; p < k; p++) {
                    acc = FloatVector.fromArray(S, w, wOff + p * n + j).fma(FloatVector.broadcast(S, x[xRow + p]), acc);
                }
                if (add) {
                    acc = acc.add(FloatVector.fromArray(S, y, yRow + j));
                }
                acc.intoArray(y, yRow + j);
            }
            for (; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum += x[xRow + p] * w[wOff + p * n + j];
                }
                y[yRow + j] = add ? y[yRow + j] + sum : sum;
            }
        }
    }

    /** The scalar twin of {@link #matmul}: the test oracle. */
    public static void matmulScalar(float[] x, int xOff, int m, int k, float[] w, int wOff, int n, float[] y,
                                    int yOff) {
        Arrays.fill(y, yOff, yOff + m * n, 0f);
        matmulAddScalar(x, xOff, m, k, w, wOff, n, y, yOff);
    }

    /** The scalar twin of {@link #matmulAdd}: the test oracle. */
    public static void matmulAddScalar(float[] x, int xOff, int m, int k, float[] w, int wOff, int n, float[] y,
                                       int yOff) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum += x[xOff + i * k + p] * w[wOff + p * n + j];
                }
                y[yOff + i * n + j] += sum;
            }
        }
    }
}
