package dev.tailor.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code Y = X·Wᵀ} for a W of only a few rows (a low-rank adapter's factor): {@code y[i, j] = Σ_p x[i, p] ·
 * w[j, p]}, both operands row-major along p.
 *
 * <p>Each output element is a dot product along p, so the kernel keeps one vector of partial sums per output
 * element: a tile of {@code L / n} rows of X by all n rows of W fills exactly L accumulators (L the vector length;
 * n = 8 on 16 lanes: 2 rows of X, 10 loads per 16 FMAs). The tile's L accumulators are then summed across lanes
 * all at once, by a butterfly: each stage adds pairs of vectors into one, half of its lanes from each, so four
 * stages turn the 16 accumulators into the single vector of the tile's 16 results, which is stored in one piece (the
 * tile's outputs are contiguous in Y). A row left over takes a one-row tile with the same operations for its 8
 * outputs; other widths of W take {@link Ops#dot} per output. Products with many rows split over the kernel threads
 * by rows.
 *
 * <p>Batch invariant: a row's outputs are computed by the same operations whether the row is paired in a tile or
 * alone, so they do not depend on how many rows are multiplied together nor on the split over threads.
 */
public final class NarrowMatMul {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Products of at least this many multiply-adds split across the kernel threads. */
    private static final long PARALLEL_WORK = 1 << 17;
    /**
     * Per stage of the butterfly ({@code s = L/2, L/4, …, 1}) the two {@code selectFrom(a, b)} index vectors of a
     * fold, {@code a, b → keep.selectFrom(a, b) + swap.selectFrom(a, b)}: lane q of the result is
     * {@code a[q] + a[q ^ s]} where bit s of q is clear, else {@code b[q] + b[q ^ s]}.
     */
    private static final float[] BUTTERFLY = butterflyIndex();
    // The fold index vectors by stage, "keep" (K) and "swap" (W), used only when L == 16.
    private static final FloatVector K8 = butterflyVector(0);
    private static final FloatVector W8 = butterflyVector(1);
    private static final FloatVector K4 = butterflyVector(2);
    private static final FloatVector W4 = butterflyVector(3);
    private static final FloatVector K2 = butterflyVector(4);
    private static final FloatVector W2 = butterflyVector(5);
    private static final FloatVector K1 = butterflyVector(6);
    private static final FloatVector W1 = butterflyVector(7);
    /** The low half of a 16-lane vector: a one-row tile's 8 results. */
    private static final VectorSpecies<Float> HALF = FloatVector.SPECIES_256;

    private NarrowMatMul() {
    }

    /**
     * Overwrites {@code y[yOff + i·n + j]} for i in [0, m), j in [0, n) with {@code Σ_p x[xOff + i·k + p] ·
     * w[wOff + j·k + p]}.
     *
     * @throws IllegalArgumentException naming the operand whose array is too short for the shapes
     */
    public static void matmulTransposed(float[] x, int xOff, int m, int k, float[] w, int wOff, int n, float[] y,
                                        int yOff) {
        check("x", x.length, xOff, (long) m * k);
        check("w", w.length, wOff, (long) n * k);
        check("y", y.length, yOff, (long) m * n);
        if (m == 0 || n == 0) {
            return;
        }
        boolean tiles = L == 16 && n == 8;
        if (Parallel.threads() == 1 || (long) m * k * n < PARALLEL_WORK) {
            rows(x, xOff, 0, m, k, w, wOff, n, y, yOff, tiles);
        } else {
            Parallel.parallelForChunks(0, m, 2, (i0, i1) -> rows(x, xOff, i0, i1, k, w, wOff, n, y, yOff, tiles));
        }
    }

    /** The scalar twin of {@link #matmulTransposed}: the definition, one product at a time in order of p. */
    public static void matmulTransposedScalar(float[] x, int xOff, int m, int k, float[] w, int wOff, int n,
                                              float[] y, int yOff) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    s += x[xOff + i * k + p] * w[wOff + j * k + p];
                }
                y[yOff + i * n + j] = s;
            }
        }
    }

    /** Rows {@code [i0, i1)} of X; {@code tiles} when L = 16 and n = 8. */
    private static void rows(float[] x, int xOff, int i0, int i1, int k, float[] w, int wOff, int n, float[] y,
                             int yOff, boolean tiles) {
        if (tiles) {
            int i = i0;
            for (; i + 2 <= i1; i += 2) {
                tile2x8(x, xOff + i * k, k, w, wOff, y, yOff + i * n);
            }
            if (i < i1) {
                tile1x8(x, xOff + i * k, k, w, wOff, y, yOff + i * n);
            }
            return;
        }
        for (int i = i0; i < i1; i++) {
            for (int j = 0; j < n; j++) {
                y[yOff + i * n + j] = Ops.dot(x, xOff + i * k, w, wOff + j * k, k);
            }
        }
    }

    /**
     * {@code y[yo + 8·r + j] = x[xo + r·k, :] · w[wo + j·k, :]} for rows r < 2 of X and j < 8 (16 lanes): the
     * accumulator of output l is {@code c<l>}, so the butterfly leaves output l in lane l.
     */
    private static void tile2x8(float[] x, int xo, int k, float[] w, int wo, float[] y, int yo) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        FloatVector c5 = c0;
        FloatVector c6 = c0;
        FloatVector c7 = c0;
        FloatVector c8 = c0;
        FloatVector c9 = c0;
        FloatVector c10 = c0;
        FloatVector c11 = c0;
        FloatVector c12 = c0;
        FloatVector c13 = c0;
        FloatVector c14 = c0;
        FloatVector c15 = c0;
        int bound = S.loopBound(k);
        int x1 = xo + k;
        for (int p = 0; p < bound; p += L) {
            FloatVector a0 = FloatVector.fromArray(S, x, xo + p);
            FloatVector a1 = FloatVector.fromArray(S, x, x1 + p);
            FloatVector b = FloatVector.fromArray(S, w, wo + p);
            c0 = a0.fma(b, c0);
            c8 = a1.fma(b, c8);
            b = FloatVector.fromArray(S, w, wo + k + p);
            c1 = a0.fma(b, c1);
            c9 = a1.fma(b, c9);
            b = FloatVector.fromArray(S, w, wo + 2 * k + p);
            c2 = a0.fma(b, c2);
            c10 = a1.fma(b, c10);
            b = FloatVector.fromArray(S, w, wo + 3 * k + p);
            c3 = a0.fma(b, c3);
            c11 = a1.fma(b, c11);
            b = FloatVector.fromArray(S, w, wo + 4 * k + p);
            c4 = a0.fma(b, c4);
            c12 = a1.fma(b, c12);
            b = FloatVector.fromArray(S, w, wo + 5 * k + p);
            c5 = a0.fma(b, c5);
            c13 = a1.fma(b, c13);
            b = FloatVector.fromArray(S, w, wo + 6 * k + p);
            c6 = a0.fma(b, c6);
            c14 = a1.fma(b, c14);
            b = FloatVector.fromArray(S, w, wo + 7 * k + p);
            c7 = a0.fma(b, c7);
            c15 = a1.fma(b, c15);
        }
        // Each line is one butterfly fold (see BUTTERFLY): stage s = 8 pairs outputs l and l + 8, s = 4 pairs
        // l and l + 4, and so on, so lane q ends with output q. Written out, not as a call: C2 would stop
        // inlining such calls partway through and box their vectors.
        FloatVector d0 = K8.selectFrom(c0, c8).add(W8.selectFrom(c0, c8));
        FloatVector d1 = K8.selectFrom(c1, c9).add(W8.selectFrom(c1, c9));
        FloatVector d2 = K8.selectFrom(c2, c10).add(W8.selectFrom(c2, c10));
        FloatVector d3 = K8.selectFrom(c3, c11).add(W8.selectFrom(c3, c11));
        FloatVector d4 = K8.selectFrom(c4, c12).add(W8.selectFrom(c4, c12));
        FloatVector d5 = K8.selectFrom(c5, c13).add(W8.selectFrom(c5, c13));
        FloatVector d6 = K8.selectFrom(c6, c14).add(W8.selectFrom(c6, c14));
        FloatVector d7 = K8.selectFrom(c7, c15).add(W8.selectFrom(c7, c15));
        FloatVector e0 = K4.selectFrom(d0, d4).add(W4.selectFrom(d0, d4));
        FloatVector e1 = K4.selectFrom(d1, d5).add(W4.selectFrom(d1, d5));
        FloatVector e2 = K4.selectFrom(d2, d6).add(W4.selectFrom(d2, d6));
        FloatVector e3 = K4.selectFrom(d3, d7).add(W4.selectFrom(d3, d7));
        FloatVector f0 = K2.selectFrom(e0, e2).add(W2.selectFrom(e0, e2));
        FloatVector f1 = K2.selectFrom(e1, e3).add(W2.selectFrom(e1, e3));
        FloatVector sums = K1.selectFrom(f0, f1).add(W1.selectFrom(f0, f1));
        sums.intoArray(y, yo);
        if (bound < k) {
            addTail(x, xo, 2, k, bound, w, wo, y, yo);
        }
    }

    /**
     * {@link #tile2x8} for one row of X: the same single accumulator per output, fed by the same fused multiply-adds,
     * and the same butterfly pairs of lanes, so each output gets the bits it gets in a 2-row tile. The first fold
     * pairs each accumulator with itself (lane q and q + 8 both hold {@code c[q] + c[q + 8]}), the next three pair
     * outputs as tile2x8's do; lanes 0..7 then hold outputs 0..7.
     */
    private static void tile1x8(float[] x, int xo, int k, float[] w, int wo, float[] y, int yo) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        FloatVector c5 = c0;
        FloatVector c6 = c0;
        FloatVector c7 = c0;
        int bound = S.loopBound(k);
        for (int p = 0; p < bound; p += L) {
            FloatVector a0 = FloatVector.fromArray(S, x, xo + p);
            c0 = a0.fma(FloatVector.fromArray(S, w, wo + p), c0);
            c1 = a0.fma(FloatVector.fromArray(S, w, wo + k + p), c1);
            c2 = a0.fma(FloatVector.fromArray(S, w, wo + 2 * k + p), c2);
            c3 = a0.fma(FloatVector.fromArray(S, w, wo + 3 * k + p), c3);
            c4 = a0.fma(FloatVector.fromArray(S, w, wo + 4 * k + p), c4);
            c5 = a0.fma(FloatVector.fromArray(S, w, wo + 5 * k + p), c5);
            c6 = a0.fma(FloatVector.fromArray(S, w, wo + 6 * k + p), c6);
            c7 = a0.fma(FloatVector.fromArray(S, w, wo + 7 * k + p), c7);
        }
        FloatVector d0 = c0.add(W8.selectFrom(c0, c0));
        FloatVector d1 = c1.add(W8.selectFrom(c1, c1));
        FloatVector d2 = c2.add(W8.selectFrom(c2, c2));
        FloatVector d3 = c3.add(W8.selectFrom(c3, c3));
        FloatVector d4 = c4.add(W8.selectFrom(c4, c4));
        FloatVector d5 = c5.add(W8.selectFrom(c5, c5));
        FloatVector d6 = c6.add(W8.selectFrom(c6, c6));
        FloatVector d7 = c7.add(W8.selectFrom(c7, c7));
        FloatVector e0 = K4.selectFrom(d0, d4).add(W4.selectFrom(d0, d4));
        FloatVector e1 = K4.selectFrom(d1, d5).add(W4.selectFrom(d1, d5));
        FloatVector e2 = K4.selectFrom(d2, d6).add(W4.selectFrom(d2, d6));
        FloatVector e3 = K4.selectFrom(d3, d7).add(W4.selectFrom(d3, d7));
        FloatVector f0 = K2.selectFrom(e0, e2).add(W2.selectFrom(e0, e2));
        FloatVector f1 = K2.selectFrom(e1, e3).add(W2.selectFrom(e1, e3));
        FloatVector sums = K1.selectFrom(f0, f1).add(W1.selectFrom(f0, f1));
        ((FloatVector) sums.reinterpretShape(HALF, 0)).intoArray(y, yo);
        if (bound < k) {
            addTail(x, xo, 1, k, bound, w, wo, y, yo);
        }
    }

    /**
     * Adds to each of a tile's outputs {@code y[yo + 8·r + j]} (r < rows, j < 8) the sum, from zero and in order of
     * p, of its products for p in {@code [bound, k)}: the p tail the vectors left.
     */
    private static void addTail(float[] x, int xo, int rows, int k, int bound, float[] w, int wo, float[] y, int yo) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < 8; j++) {
                float tail = 0f;
                for (int p = bound; p < k; p++) {
                    tail += x[xo + r * k + p] * w[wo + j * k + p];
                }
                y[yo + 8 * r + j] += tail;
            }
        }
    }

    /**
     * {@link #BUTTERFLY}: "keep" takes lane q of a where bit s of q is clear and of b where set, "swap" the same
     * from lane {@code q ^ s} (lanes {@code L..2L-1} of a {@code selectFrom} index name b).
     */
    private static float[] butterflyIndex() {
        int stages = Integer.numberOfTrailingZeros(L);
        float[] idx = new float[2 * stages * L];
        for (int stage = 0, s = L / 2; s >= 1; stage++, s /= 2) {
            for (int q = 0; q < L; q++) {
                boolean set = (q & s) != 0;
                idx[2 * stage * L + q] = set ? L + q : q;
                idx[(2 * stage + 1) * L + q] = set ? L + (q ^ s) : q ^ s;
            }
        }
        return idx;
    }

    /** Index vector {@code v} of {@link #BUTTERFLY}; zero (and unused) past its end, for vectors narrower than 16. */
    private static FloatVector butterflyVector(int v) {
        return (v + 1) * L <= BUTTERFLY.length ? FloatVector.fromArray(S, BUTTERFLY, v * L) : FloatVector.zero(S);
    }

    private static void check(String name, int length, int off, long size) {
        if (off < 0 || off + size > length) {
            throw new IllegalArgumentException(name + " has " + length + " floats; needs " + (off + size)
                    + " (offset " + off + " + " + size + ")");
        }
    }
}
