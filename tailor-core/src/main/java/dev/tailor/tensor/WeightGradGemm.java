package dev.tailor.tensor;

import static dev.tailor.tensor.PackedGemm.GROUP_BYTES;
import static dev.tailor.tensor.PackedGemm.KC_MAX;
import static dev.tailor.tensor.PackedGemm.MR;
import static dev.tailor.tensor.PackedGemm.NR;
import static dev.tailor.tensor.PackedGemm.ceilDiv;
import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import jdk.incubator.vector.FloatVector;

/**
 * {@code dW += dYᵀ·X} for a linear layer's backward pass: {@code dW [n, k]}, reduced over the {@code m}
 * rows of {@code dY [m, n]} and {@code X [m, k]}.
 *
 * <p>Uses {@link PackedGemm}'s micro-kernels with A = dYᵀ and B = X. The reduction is walked in blocks of
 * at most {@link PackedGemm#KC_MAX} rows (one block for a training sequence). Per block, X is packed once into
 * {@code NR}-wide panels {@code [panel][p][NR]} shared by all threads (rows of X are contiguous, so this is
 * vector copies), then the rows of dW are cut into chunks, the parallel tasks. A task transposes its strip
 * of dY into {@code [row][p]} (the layout the kernels read X in: {@code MR} rows at stride {@code kb}, which
 * stays in L2), then for each L2-sized group of X panels runs every {@code MR}-row tile of the strip
 * (in L1) over the group's panels, adding into dW; leftover rows use the one-row kernel.
 */
final class WeightGradGemm {
    /** Most bytes of transposed dY per task. */
    private static final int STRIP_BYTES = 128 * 1024;
    /** Rows of dY transposed together: one cache line of floats per row read. */
    private static final int TRANSPOSE_BLOCK = 16;
    private static final ThreadLocal<float[]> PANELS = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> STRIP = ThreadLocal.withInitial(() -> new float[0]);

    private WeightGradGemm() {
    }

    /** {@code dw[j, c] += Σ_i dy[i, j] · x[i, c]}; all of m, n, k positive. */
    static void run(float[] dy, float[] x, int m, int n, int k, float[] dw) {
        int kc = ceilDiv(m, ceilDiv(m, KC_MAX));
        int panels = ceilDiv(k, NR);
        float[] b = Scratch.floats(PANELS, panels * kc * NR);
        int byThreads = ceilDiv(n, 4 * Parallel.threads());
        int byCache = Math.max(MR, STRIP_BYTES / (kc * Float.BYTES));
        int rows = ceilDiv(Math.min(byThreads, byCache), MR) * MR;
        int chunks = ceilDiv(n, rows);
        for (int i0 = 0; i0 < m; i0 += kc) {
            int r0 = i0;
            int kb = Math.min(kc, m - i0);
            Parallel.parallelForRange(panels, (q0, q1) -> packX(x, k, r0, kb, q0, q1, b));
            Parallel.parallelFor(chunks, t -> strip(dy, n, k, r0, kb, b, panels, dw,
                    t * rows, Math.min(n, (t + 1) * rows)));
        }
    }

    /** Packs X rows {@code [i0, i0 + kb)}, panels {@code [q0, q1)} as {@code [panel][p][NR]}, zero-padded. */
    private static void packX(float[] x, int k, int i0, int kb, int q0, int q1, float[] b) {
        for (int q = q0; q < q1; q++) {
            int c0 = q * NR;
            int base = q * kb * NR;
            if (c0 + NR <= k) {
                for (int p = 0; p < kb; p++) {
                    int src = (i0 + p) * k + c0;
                    FloatVector.fromArray(F, x, src).intoArray(b, base + p * NR);
                    FloatVector.fromArray(F, x, src + L).intoArray(b, base + p * NR + L);
                }
            } else {
                for (int p = 0; p < kb; p++) {
                    int src = (i0 + p) * k;
                    for (int jj = 0; jj < NR; jj++) {
                        b[base + p * NR + jj] = c0 + jj < k ? x[src + c0 + jj] : 0f;
                    }
                }
            }
        }
    }

    /** Adds the reduction block {@code [i0, i0 + kb)} into dW rows {@code [j0, j1)}. */
    private static void strip(float[] dy, int n, int k, int i0, int kb, float[] b, int panels, float[] dw,
                              int j0, int j1) {
        int rows = j1 - j0;
        float[] a = Scratch.floats(STRIP, rows * kb);
        transpose(dy, n, i0, kb, j0, rows, a);
        int perGroup = Math.max(1, GROUP_BYTES / (kb * NR * Float.BYTES));
        for (int g0 = 0; g0 < panels; g0 += perGroup) {
            int g1 = Math.min(panels, g0 + perGroup);
            int r = 0;
            for (; r + MR <= rows; r += MR) {
                for (int q = g0; q < g1; q++) {
                    PackedGemm.kernel(a, r * kb, kb, b, q * kb * NR, kb,
                            dw, (j0 + r) * k + q * NR, k, Math.min(NR, k - q * NR), false);
                }
            }
            if (r < rows) {
                for (int q = g0; q < g1; q++) {
                    PackedGemm.kernelTail(rows - r, a, r * kb, kb, b, q * kb * NR, kb,
                            dw, (j0 + r) * k + q * NR, k, Math.min(NR, k - q * NR), false);
                }
            }
        }
    }

    /** {@code a[r · kb + p] = dy[(i0 + p) · n + j0 + r]} for {@code r < rows}, {@code p < kb}. */
    private static void transpose(float[] dy, int n, int i0, int kb, int j0, int rows, float[] a) {
        for (int r0 = 0; r0 < rows; r0 += TRANSPOSE_BLOCK) {
            int r1 = Math.min(rows, r0 + TRANSPOSE_BLOCK);
            for (int p = 0; p < kb; p++) {
                int src = (i0 + p) * n + j0;
                for (int r = r0; r < r1; r++) {
                    a[r * kb + p] = dy[src + r];
                }
            }
        }
    }
}
