package dev.tailor.tensor;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Matrix products over activations (float32 arrays, row-major) and weights ({@link WeightMatrix}).
 *
 * <p>Few rows of X (decode) go to a streaming dot-product kernel that reads W once in place; many rows
 * (prefill, training) go to a packed, register-blocked GEMM. Both split the rows of W across
 * {@link Parallel}'s threads and widen BF16/F16 weights to float on the fly; Q8_0/Q4_0 weights are dequantized on the
 * fly (in registers for one row of X, into the packed panels for many), with the bits of the same path over the
 * dequantized weights; K-quant weights (Q4_K, Q5_K, Q6_K) likewise, in registers for one row ({@link KQuantGemv})
 * and a row at a time for many ({@link KQuantRows}), with the same bits too. Weight segments are read from
 * the pool's threads, so they must not belong to a confined arena (mapped files in a shared, global or
 * automatic arena are fine).
 *
 * <p>Inside {@link #batchInvariant(Supplier)} every product takes the streaming kernel, whose result for a row of X
 * is computed by the same operations in the same order whatever the other rows are: a row's output is then
 * bit-identical alone or in a batch of any size, which a server batching requests together needs.
 */
public final class MatMul {
    /**
     * From this many rows of X on, packing W pays for itself (measured at 576×1536 on one thread: streaming
     * costs ~0.05 ms per row; packing ~0.36 ms once, then ~0.02 ms per row).
     */
    static final int PACKED_MIN_ROWS = 12;

    /** Bound (to true) while products must be batch invariant. */
    private static final ScopedValue<Boolean> BATCH_INVARIANT = ScopedValue.newInstance();

    private MatMul() {
    }

    /**
     * Runs {@code task} with batch-invariant products: within it (on this thread), each output row of
     * {@link #matmulTransposed} depends on its own row of X and on W only, bit for bit, not on how many rows are
     * multiplied together.
     */
    public static <T> T batchInvariant(Supplier<T> task) {
        return ScopedValue.where(BATCH_INVARIANT, Boolean.TRUE).call(task::get);
    }

    /**
     * Runs {@code work} (a pool thread's share of a loop started on another thread) in batch-invariant mode when
     * {@code batchInvariant} (the mode of the thread that started the loop: a scoped value does not reach other
     * threads by itself), else as it is. Bound once for the share, not once a task.
     */
    static void runInMode(boolean batchInvariant, Runnable work) {
        if (batchInvariant && !BATCH_INVARIANT.isBound()) {
            ScopedValue.where(BATCH_INVARIANT, Boolean.TRUE).run(work);
        } else {
            work.run();
        }
    }

    /** Whether products on this thread are batch invariant now ({@link #batchInvariant(Supplier)}). */
    public static boolean isBatchInvariant() {
        return BATCH_INVARIANT.isBound();
    }

    /**
     * {@code Y = X·Wᵀ}: {@code y[i, j] = Σ_k x[i, k] · w[j, k]} for a linear layer's forward pass.
     *
     * @param x    activations {@code [m, w.cols()]} starting at {@code x[0]}
     * @param m    number of rows of X
     * @param w    weight {@code [n, k]}
     * @param y    output {@code [m, w.rows()]} starting at {@code y[0]}, overwritten
     */
    public static void matmulTransposed(float[] x, int m, WeightMatrix w, float[] y) {
        matmulTransposed(x, 0, m, w, y, 0);
    }

    /**
     * {@code Y = X·Wᵀ} on slices: X is the {@code [m, k]} row-major block starting at {@code x[xOff]}, Y the
     * {@code [m, n]} block starting at {@code y[yOff]} (overwritten), with {@code [n, k]} the shape of W.
     *
     * @throws IllegalArgumentException naming the array that is too short for the shapes
     */
    public static void matmulTransposed(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff) {
        int n = w.rows();
        int k = w.cols();
        if (!w.dtype().hasKernels()) {
            throw new IllegalArgumentException("no kernels for " + w.dtype() + " weights; dequantize them first");
        }
        checkRange("x", x.length, xOff, (long) m * k, m, k);
        checkRange("y", y.length, yOff, (long) m * n, m, n);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            Arrays.fill(y, yOff, yOff + m * n, 0f);
        } else if (m < PACKED_MIN_ROWS || BATCH_INVARIANT.isBound()) {
            Gemv.run(x, xOff, m, w, y, yOff);
        } else {
            PackedGemm.run(x, xOff, m, w, y, yOff);
        }
    }

    /**
     * {@link #matmulTransposed(float[], int, int, WeightMatrix, float[], int)} for each weight {@code ws[i]} into
     * {@code ys[i]} from {@code yOffs[i]}, all against the same rows of X (the query, key and value projections of a
     * block, say). Few rows of X run the streaming products of all the weights as one parallel loop (one wait for the
     * threads, not one per weight); each output has the bits its own product gives it.
     *
     * @throws IllegalArgumentException if the weights' columns differ, the arrays' lengths do not match, or an array
     *                                  is too short for the shapes
     */
    public static void matmulTransposedEach(float[] x, int xOff, int m, WeightMatrix[] ws, float[][] ys,
                                            int[] yOffs) {
        if (ys.length != ws.length || yOffs.length != ws.length) {
            throw new IllegalArgumentException(ws.length + " weights need as many outputs and offsets, got "
                    + ys.length + " and " + yOffs.length);
        }
        boolean streaming = m > 0 && (m < PACKED_MIN_ROWS || BATCH_INVARIANT.isBound());
        for (int i = 0; i < ws.length; i++) {
            WeightMatrix w = ws[i];
            if (w.cols() != ws[0].cols()) {
                throw new IllegalArgumentException("weights multiplied by the same X need the same columns, got "
                        + ws[0].cols() + " and " + w.cols());
            }
            if (!w.dtype().hasKernels()) {
                throw new IllegalArgumentException("no kernels for " + w.dtype() + " weights; dequantize them first");
            }
            checkRange("x", x.length, xOff, (long) m * w.cols(), m, w.cols());
            checkRange("y", ys[i].length, yOffs[i], (long) m * w.rows(), m, w.rows());
            streaming &= w.rows() > 0 && w.cols() > 0;
        }
        if (streaming) {
            Gemv.runEach(x, xOff, m, ws, ys, yOffs);
            return;
        }
        for (int i = 0; i < ws.length; i++) {
            matmulTransposed(x, xOff, m, ws[i], ys[i], yOffs[i]);
        }
    }

    private static void checkRange(String name, int length, int off, long size, int rows, int cols) {
        if (off < 0 || rows < 0 || off + size > length) {
            throw new IllegalArgumentException(name + " needs " + size + " floats ([" + rows + ", " + cols
                    + "]) from offset " + off + ", but has length " + length);
        }
    }
}
