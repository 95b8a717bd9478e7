package dev.tailor.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code Y = X·W} with both operands row-major float arrays: {@code y[i, j] = Σ_p x[i, p] · w[p, j]}. Used where
 * the right operand is laid out by rows of the reduction index: adapters' small factors, attention's {@code P·V}
 * and {@code dS·K}. Every operand may be a strided block of a larger matrix (BLAS's leading dimension), so an
 * attention head's rows are read and written in place.
 *
 * <p>Register-blocked without packing (W is small or L2-resident in every use): a tile of 4 rows by two vectors of
 * Y lives in 8 registers while p runs over the reduction, with 4 broadcasts of X and 2 loads of W per 8 FMAs;
 * column tails use masked vectors, leftover rows a one-row kernel. Large products split over the kernel threads by
 * rows, or by columns when there are few rows (so a short, wide product still reads W once).
 *
 * <p>Batch invariant: every path (4-row or 1-row tiles, masked or scalar column tails, any split) computes an
 * element by the same operations, a fused multiply-add per p in order then the one addition into y, so a row's
 * bits do not depend on how many rows are multiplied with it.
 */
public final class MatMulNN {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * Rows of X per register tile. Fewer rows than this take the one-row tiles, whose two accumulator chains leave
     * the multiply-adds waiting on each other; a caller with a few rows may pad them with zero rows to this.
     */
    public static final int TILE_ROWS = 4;
    /**
     * Floats of slack a caller leaves after an operand's last row (one vector) so that the masked tiles of a column
     * tail stay inside the array: a masked access whose vector span passes an array's end takes the Vector API's
     * slow, allocating path, so such a tail is computed by the scalar twin instead.
     */
    public static final int SLACK = L;
    /** Products of at least this many multiply-adds split across the kernel threads. */
    private static final long PARALLEL_WORK = 1 << 18;

    private MatMulNN() {
    }

    /**
     * Overwrites {@code y[yOff + i·n + j]} for i in [0, m), j in [0, n) with {@code Σ_p x[xOff + i·k + p] ·
     * w[wOff + p·n + j]}.
     */
    public static void matmul(float[] x, int xOff, int m, int k, float[] w, int wOff, int n, float[] y, int yOff) {
        matmul(x, xOff, k, m, k, w, wOff, n, n, y, yOff, n);
    }

    /**
     * Adds {@code Σ_p x[xOff + i·k + p] · w[wOff + p·n + j]} to {@code y[yOff + i·n + j]} (the sum first, then the
     * one addition into y), for i in [0, m), j in [0, n): {@link #matmul} without a temporary and a second pass.
     */
    public static void matmulAdd(float[] x, int xOff, int m, int k, float[] w, int wOff, int n, float[] y,
                                 int yOff) {
        matmulAdd(x, xOff, k, m, k, w, wOff, n, n, y, yOff, n);
    }

    /**
     * {@link #matmul} on strided blocks: overwrites {@code y[yOff + i·ldy + j]} with {@code Σ_p x[xOff + i·ldx + p]
     * · w[wOff + p·ldw + j]} for i in [0, m), j in [0, n), p in [0, k).
     *
     * @throws IllegalArgumentException naming the operand whose array is too short for the shapes
     */
    public static void matmul(float[] x, int xOff, int ldx, int m, int k, float[] w, int wOff, int ldw, int n,
                              float[] y, int yOff, int ldy) {
        run(x, xOff, ldx, m, k, w, wOff, ldw, n, y, yOff, ldy, false);
    }

    /** {@link #matmulAdd} on strided blocks, as {@link #matmul(float[], int, int, int, int, float[], int, int, int,
     * float[], int, int)} lays them out. */
    public static void matmulAdd(float[] x, int xOff, int ldx, int m, int k, float[] w, int wOff, int ldw, int n,
                                 float[] y, int yOff, int ldy) {
        run(x, xOff, ldx, m, k, w, wOff, ldw, n, y, yOff, ldy, true);
    }

    private static void run(float[] x, int xOff, int ldx, int m, int k, float[] w, int wOff, int ldw, int n,
                            float[] y, int yOff, int ldy, boolean add) {
        checkBlock("x", x.length, xOff, ldx, m, k);
        checkBlock("w", w.length, wOff, ldw, k, n);
        checkBlock("y", y.length, yOff, ldy, m, n);
        if (m == 0 || n == 0) {
            return;
        }
        int threads = Parallel.threads();
        if (threads == 1 || (long) m * k * n < PARALLEL_WORK) {
            rows(x, xOff, ldx, 0, m, k, w, wOff, ldw, 0, n, y, yOff, ldy, add);
        } else if (m >= 4 * TILE_ROWS * threads) {
            Parallel.parallelForChunks(0, m, TILE_ROWS,
                    (i0, i1) -> rows(x, xOff, ldx, i0, i1, k, w, wOff, ldw, 0, n, y, yOff, ldy, add));
        } else {
            Parallel.parallelForChunks(0, n, 2 * L,
                    (j0, j1) -> rows(x, xOff, ldx, 0, m, k, w, wOff, ldw, j0, j1, y, yOff, ldy, add));
        }
    }

    private static void rows(float[] x, int xOff, int ldx, int i0, int i1, int k, float[] w, int wOff, int ldw,
                             int j0, int j1, float[] y, int yOff, int ldy, boolean add) {
        int jv = j0 + (j1 - j0) / L * L;
        boolean maskedTail = jv < j1 && tailInBounds(w.length, wOff, ldw, k, y.length, yOff, ldy, i1, jv);
        int jm = maskedTail ? j1 : jv;
        int i = i0;
        for (; i + TILE_ROWS <= i1; i += TILE_ROWS) {
            int j = j0;
            for (; j + 2 * L <= jv; j += 2 * L) {
                tile4x2(x, xOff + i * ldx, ldx, k, w, wOff + j, ldw, y, yOff + i * ldy + j, ldy, add);
            }
            for (; j < jm; j += L) {
                tile4x1(x, xOff + i * ldx, ldx, k, w, wOff + j, ldw, y, yOff + i * ldy + j, ldy, add,
                        Math.min(L, j1 - j));
            }
        }
        for (; i < i1; i++) {
            int j = j0;
            for (; j + 2 * L <= jv; j += 2 * L) {
                tile1x2(x, xOff + i * ldx, k, w, wOff + j, ldw, y, yOff + i * ldy + j, add);
            }
            for (; j < jm; j += L) {
                tile1x1(x, xOff + i * ldx, k, w, wOff + j, ldw, y, yOff + i * ldy + j, add, Math.min(L, j1 - j));
            }
        }
        if (jm < j1) {
            matmulScalar(x, xOff + i0 * ldx, ldx, i1 - i0, k, w, wOff + jm, ldw, j1 - jm, y, yOff + i0 * ldy + jm,
                    ldy, add);
        }
    }

    /**
     * Whether the masked tiles of the column tail starting at {@code jv} stay inside both arrays: a masked access
     * whose whole vector span passes an array's end takes the Vector API's slow, allocating path, so such a tail is
     * computed by the scalar twin instead (callers with a narrow output leave {@link #SLACK} after their arrays to
     * stay on the fast path).
     */
    private static boolean tailInBounds(int wLength, int wOff, int ldw, int k, int yLength, int yOff, int ldy,
                                        int i1, int jv) {
        long wEnd = wOff + (long) Math.max(0, k - 1) * ldw + jv + L;
        long yEnd = yOff + (long) (i1 - 1) * ldy + jv + L;
        return wEnd <= wLength && yEnd <= yLength;
    }

    // The tiles deliberately repeat their shape: registers must be named locals, and no vector may be passed to a
    // call that C2 might not inline (it would box it on every iteration).

    static void tile4x2(float[] x, int x0, int ldx, int k, float[] w, int w0, int ldw, float[] y, int y0,
                                int ldy, boolean add) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S);
        FloatVector c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S);
        FloatVector c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S);
        FloatVector c31 = FloatVector.zero(S);
        int x1 = x0 + ldx;
        int x2 = x1 + ldx;
        int x3 = x2 + ldx;
        for (int p = 0, wp = w0; p < k; p++, wp += ldw) {
            FloatVector b0 = FloatVector.fromArray(S, w, wp);
            FloatVector b1 = FloatVector.fromArray(S, w, wp + L);
            FloatVector a = FloatVector.broadcast(S, x[x0 + p]);
            c00 = b0.fma(a, c00);
            c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(S, x[x1 + p]);
            c10 = b0.fma(a, c10);
            c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(S, x[x2 + p]);
            c20 = b0.fma(a, c20);
            c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(S, x[x3 + p]);
            c30 = b0.fma(a, c30);
            c31 = b1.fma(a, c31);
        }
        int y1 = y0 + ldy;
        int y2 = y1 + ldy;
        int y3 = y2 + ldy;
        if (add) {
            c00 = c00.add(FloatVector.fromArray(S, y, y0));
            c01 = c01.add(FloatVector.fromArray(S, y, y0 + L));
            c10 = c10.add(FloatVector.fromArray(S, y, y1));
            c11 = c11.add(FloatVector.fromArray(S, y, y1 + L));
            c20 = c20.add(FloatVector.fromArray(S, y, y2));
            c21 = c21.add(FloatVector.fromArray(S, y, y2 + L));
            c30 = c30.add(FloatVector.fromArray(S, y, y3));
            c31 = c31.add(FloatVector.fromArray(S, y, y3 + L));
        }
        c00.intoArray(y, y0);
        c01.intoArray(y, y0 + L);
        c10.intoArray(y, y1);
        c11.intoArray(y, y1 + L);
        c20.intoArray(y, y2);
        c21.intoArray(y, y2 + L);
        c30.intoArray(y, y3);
        c31.intoArray(y, y3 + L);
    }

    private static void tile4x1(float[] x, int x0, int ldx, int k, float[] w, int w0, int ldw, float[] y, int y0,
                                int ldy, boolean add, int width) {
        VectorMask<Float> cols = S.indexInRange(0, width);
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        FloatVector c3 = FloatVector.zero(S);
        int x1 = x0 + ldx;
        int x2 = x1 + ldx;
        int x3 = x2 + ldx;
        for (int p = 0, wp = w0; p < k; p++, wp += ldw) {
            FloatVector b = FloatVector.fromArray(S, w, wp, cols);
            c0 = b.fma(FloatVector.broadcast(S, x[x0 + p]), c0);
            c1 = b.fma(FloatVector.broadcast(S, x[x1 + p]), c1);
            c2 = b.fma(FloatVector.broadcast(S, x[x2 + p]), c2);
            c3 = b.fma(FloatVector.broadcast(S, x[x3 + p]), c3);
        }
        int y1 = y0 + ldy;
        int y2 = y1 + ldy;
        int y3 = y2 + ldy;
        if (add) {
            c0 = c0.add(FloatVector.fromArray(S, y, y0, cols));
            c1 = c1.add(FloatVector.fromArray(S, y, y1, cols));
            c2 = c2.add(FloatVector.fromArray(S, y, y2, cols));
            c3 = c3.add(FloatVector.fromArray(S, y, y3, cols));
        }
        c0.intoArray(y, y0, cols);
        c1.intoArray(y, y1, cols);
        c2.intoArray(y, y2, cols);
        c3.intoArray(y, y3, cols);
    }

    static void tile1x2(float[] x, int x0, int k, float[] w, int w0, int ldw, float[] y, int y0,
                                boolean add) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = FloatVector.zero(S);
        for (int p = 0, wp = w0; p < k; p++, wp += ldw) {
            FloatVector a = FloatVector.broadcast(S, x[x0 + p]);
            c0 = FloatVector.fromArray(S, w, wp).fma(a, c0);
            c1 = FloatVector.fromArray(S, w, wp + L).fma(a, c1);
        }
        if (add) {
            c0 = c0.add(FloatVector.fromArray(S, y, y0));
            c1 = c1.add(FloatVector.fromArray(S, y, y0 + L));
        }
        c0.intoArray(y, y0);
        c1.intoArray(y, y0 + L);
    }

    private static void tile1x1(float[] x, int x0, int k, float[] w, int w0, int ldw, float[] y, int y0,
                                boolean add, int width) {
        VectorMask<Float> cols = S.indexInRange(0, width);
        FloatVector c = FloatVector.zero(S);
        for (int p = 0, wp = w0; p < k; p++, wp += ldw) {
            c = FloatVector.fromArray(S, w, wp, cols).fma(FloatVector.broadcast(S, x[x0 + p]), c);
        }
        if (add) {
            c = c.add(FloatVector.fromArray(S, y, y0, cols));
        }
        c.intoArray(y, y0, cols);
    }

    /** The scalar twin of {@link #matmul}: the test oracle. */
    public static void matmulScalar(float[] x, int xOff, int m, int k, float[] w, int wOff, int n, float[] y,
                                    int yOff) {
        matmulScalar(x, xOff, k, m, k, w, wOff, n, n, y, yOff, n, false);
    }

    /** The scalar twin of {@link #matmulAdd}: the test oracle. */
    public static void matmulAddScalar(float[] x, int xOff, int m, int k, float[] w, int wOff, int n, float[] y,
                                       int yOff) {
        matmulScalar(x, xOff, k, m, k, w, wOff, n, n, y, yOff, n, true);
    }

    /**
     * The scalar twin of the strided {@link #matmul} ({@code add} false) and {@link #matmulAdd} (true), with the
     * tiles' operations: one fused multiply-add per term in order of p, then the one addition into y. So it gives
     * their bits exactly, and serves as the kernel's own column tail where a masked tile would pass an array's end.
     */
    public static void matmulScalar(float[] x, int xOff, int ldx, int m, int k, float[] w, int wOff, int ldw, int n,
                                    float[] y, int yOff, int ldy, boolean add) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum = Math.fma(x[xOff + i * ldx + p], w[wOff + p * ldw + j], sum);
                }
                int at = yOff + i * ldy + j;
                y[at] = add ? y[at] + sum : sum;
            }
        }
    }

    private static void checkBlock(String name, int length, int off, int ld, int rows, int cols) {
        long end = rows == 0 || cols == 0 ? off : off + (long) (rows - 1) * ld + cols;
        if (off < 0 || rows < 0 || cols < 0 || (rows > 1 && ld < cols) || end > length) {
            throw new IllegalArgumentException(name + " needs a [" + rows + ", " + cols + "] block with row stride "
                    + ld + " from offset " + off + ", but has length " + length);
        }
    }
}
