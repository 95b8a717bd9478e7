package dev.tailor.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Transposes a strided block of a row-major float matrix into another ({@code dst[c, r] = src[r, c]}), optionally
 * adding into the destination: attention's per-head key and value layouts.
 *
 * <p>Whole 16 × 16 tiles (16-lane vectors) are transposed in registers by four butterfly stages of two-vector
 * {@code selectFrom}s, as {@link PackedGemm}'s pack does (there from a memory segment); adding goes through a
 * per-thread 16 × 16 scratch tile, which keeps the register tile small enough for the JIT to compile it well.
 * Contiguous rows of 8 columns (LoRA's {@code B [out, 8]}) go 16 rows at a time through three such stages and a
 * shuffle ({@link #rowPairs}); other blocks narrower than a vector gather their columns. Ragged edges, and machines
 * with other vector lengths, take the scalar loop.
 */
public final class Transpose {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    // The butterfly's index vectors by stage (lanes L..2L-1 name the second operand); zero when L != 16.
    private static final FloatVector S8_LO = PackedGemm.swapVector(0);
    private static final FloatVector S8_HI = PackedGemm.swapVector(1);
    private static final FloatVector S4_LO = PackedGemm.swapVector(2);
    private static final FloatVector S4_HI = PackedGemm.swapVector(3);
    private static final FloatVector S2_LO = PackedGemm.swapVector(4);
    private static final FloatVector S2_HI = PackedGemm.swapVector(5);
    private static final FloatVector S1_LO = PackedGemm.swapVector(6);
    private static final FloatVector S1_HI = PackedGemm.swapVector(7);
    /** Lane {@code l} of a row-pair tile's column takes lane {@code (l & 1)·L/2 + l / 2} (see {@link #rowPairs}). */
    private static final VectorShuffle<Float> PAIRS = VectorShuffle.fromOp(S, l -> (l & 1) * (L / 2) + l / 2);
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[L * L]);

    private Transpose() {
    }

    /**
     * {@code dst[dstOff + c·ldDst + r] = src[srcOff + r·ldSrc + c]} (or {@code +=} when {@code add}) for
     * {@code r < rows}, {@code c < cols}.
     */
    public static void transpose(float[] src, int srcOff, int ldSrc, int rows, int cols, float[] dst, int dstOff,
                                 int ldDst, boolean add) {
        int r0 = 0;
        if (L == 16 && cols == L / 2 && ldSrc == cols) {
            r0 = rowPairs(src, srcOff, rows, dst, dstOff, ldDst, add);
        } else if (cols < L) {
            r0 = narrow(src, srcOff, ldSrc, rows, cols, dst, dstOff, ldDst, add);
        } else if (L == 16) {
            float[] scratch = add ? SCRATCH.get() : null;
            for (; r0 + L <= rows; r0 += L) {
                int c0 = 0;
                for (; c0 + L <= cols; c0 += L) {
                    int s = srcOff + r0 * ldSrc + c0;
                    int d = dstOff + c0 * ldDst + r0;
                    if (add) {
                        tile(src, s, ldSrc, scratch, 0, L);
                        for (int c = 0; c < L; c++) {
                            FloatVector.fromArray(S, scratch, c * L).add(FloatVector.fromArray(S, dst, d + c * ldDst))
                                    .intoArray(dst, d + c * ldDst);
                        }
                    } else {
                        tile(src, s, ldSrc, dst, d, ldDst);
                    }
                }
                transposeScalar(src, srcOff + r0 * ldSrc + c0, ldSrc, L, cols - c0, dst, dstOff + c0 * ldDst + r0,
                        ldDst, add);
            }
        }
        transposeScalar(src, srcOff + r0 * ldSrc, ldSrc, rows - r0, cols, dst, dstOff + r0, ldDst, add);
    }

    /**
     * {@link #transpose} of a block narrower than a vector (LoRA's {@code B [out, r]}, r = 8 or 16): each of the few
     * columns is gathered L rows at a time (one strided vector load) and stored as L contiguous destination elements.
     * Returns the rows done, a multiple of L; the caller transposes the rest.
     */
    private static int narrow(float[] src, int srcOff, int ldSrc, int rows, int cols, float[] dst, int dstOff,
                              int ldDst, boolean add) {
        int whole = rows / L * L;
        if (whole == 0 || (long) (L - 1) * ldSrc > Integer.MAX_VALUE) {
            return 0;
        }
        int[] stride = new int[L];
        for (int l = 0; l < L; l++) {
            stride[l] = l * ldSrc;
        }
        for (int c = 0; c < cols; c++) {
            for (int r0 = 0; r0 < whole; r0 += L) {
                FloatVector v = FloatVector.fromArray(S, src, srcOff + r0 * ldSrc + c, stride, 0);
                int d = dstOff + c * ldDst + r0;
                if (add) {
                    v = v.add(FloatVector.fromArray(S, dst, d));
                }
                v.intoArray(dst, d);
            }
        }
        return whole;
    }

    /**
     * {@link #transpose} of contiguous rows of 8 columns on 16 lanes (LoRA's {@code B [out, 8]}), 16 rows at a time:
     * the tile's 128 elements are 8 vectors of two rows each, so lane {@code 8a + c} of vector {@code q} holds
     * element {@code (2q + a, c)}. Three butterflies exchange the column's bits with the vector's, leaving column c
     * in vector c at lane {@code 8a + q}, and one shuffle per vector puts its lanes in row order {@code 2q + a}.
     * Three times faster than gathering the columns. Returns the rows done, a multiple of 16.
     */
    private static int rowPairs(float[] src, int srcOff, int rows, float[] dst, int dstOff, int ldDst,
                                boolean add) {
        int whole = rows / L * L;
        for (int r0 = 0; r0 < whole; r0 += L) {
            int s = srcOff + r0 * (L / 2);
            FloatVector v0 = FloatVector.fromArray(S, src, s);
            FloatVector v1 = FloatVector.fromArray(S, src, s + L);
            FloatVector v2 = FloatVector.fromArray(S, src, s + 2 * L);
            FloatVector v3 = FloatVector.fromArray(S, src, s + 3 * L);
            FloatVector v4 = FloatVector.fromArray(S, src, s + 4 * L);
            FloatVector v5 = FloatVector.fromArray(S, src, s + 5 * L);
            FloatVector v6 = FloatVector.fromArray(S, src, s + 6 * L);
            FloatVector v7 = FloatVector.fromArray(S, src, s + 7 * L);
            FloatVector a0 = S4_LO.selectFrom(v0, v4), a4 = S4_HI.selectFrom(v0, v4);
            FloatVector a1 = S4_LO.selectFrom(v1, v5), a5 = S4_HI.selectFrom(v1, v5);
            FloatVector a2 = S4_LO.selectFrom(v2, v6), a6 = S4_HI.selectFrom(v2, v6);
            FloatVector a3 = S4_LO.selectFrom(v3, v7), a7 = S4_HI.selectFrom(v3, v7);
            FloatVector b0 = S2_LO.selectFrom(a0, a2), b2 = S2_HI.selectFrom(a0, a2);
            FloatVector b1 = S2_LO.selectFrom(a1, a3), b3 = S2_HI.selectFrom(a1, a3);
            FloatVector b4 = S2_LO.selectFrom(a4, a6), b6 = S2_HI.selectFrom(a4, a6);
            FloatVector b5 = S2_LO.selectFrom(a5, a7), b7 = S2_HI.selectFrom(a5, a7);
            int d = dstOff + r0;
            storePairs(S1_LO.selectFrom(b0, b1), dst, d, add);
            storePairs(S1_HI.selectFrom(b0, b1), dst, d + ldDst, add);
            storePairs(S1_LO.selectFrom(b2, b3), dst, d + 2 * ldDst, add);
            storePairs(S1_HI.selectFrom(b2, b3), dst, d + 3 * ldDst, add);
            storePairs(S1_LO.selectFrom(b4, b5), dst, d + 4 * ldDst, add);
            storePairs(S1_HI.selectFrom(b4, b5), dst, d + 5 * ldDst, add);
            storePairs(S1_LO.selectFrom(b6, b7), dst, d + 6 * ldDst, add);
            storePairs(S1_HI.selectFrom(b6, b7), dst, d + 7 * ldDst, add);
        }
        return whole;
    }

    /** Stores (or adds) one column of a row-pair tile, its lanes put in row order. */
    private static void storePairs(FloatVector column, float[] dst, int d, boolean add) {
        FloatVector v = column.rearrange(PAIRS);
        if (add) {
            v = v.add(FloatVector.fromArray(S, dst, d));
        }
        v.intoArray(dst, d);
    }

    /** The scalar twin of {@link #transpose}. */
    public static void transposeScalar(float[] src, int srcOff, int ldSrc, int rows, int cols, float[] dst,
                                       int dstOff, int ldDst, boolean add) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int d = dstOff + c * ldDst + r;
                float v = src[srcOff + r * ldSrc + c];
                dst[d] = add ? dst[d] + v : v;
            }
        }
    }

    /** One 16 × 16 tile in registers: each line of the stages is one butterfly, rows i and i|s exchanging lanes. */
    private static void tile(float[] src, int s, int ls, float[] dst, int d, int ld) {
        FloatVector r0 = FloatVector.fromArray(S, src, s);
        FloatVector r1 = FloatVector.fromArray(S, src, s + ls);
        FloatVector r2 = FloatVector.fromArray(S, src, s + 2 * ls);
        FloatVector r3 = FloatVector.fromArray(S, src, s + 3 * ls);
        FloatVector r4 = FloatVector.fromArray(S, src, s + 4 * ls);
        FloatVector r5 = FloatVector.fromArray(S, src, s + 5 * ls);
        FloatVector r6 = FloatVector.fromArray(S, src, s + 6 * ls);
        FloatVector r7 = FloatVector.fromArray(S, src, s + 7 * ls);
        FloatVector r8 = FloatVector.fromArray(S, src, s + 8 * ls);
        FloatVector r9 = FloatVector.fromArray(S, src, s + 9 * ls);
        FloatVector r10 = FloatVector.fromArray(S, src, s + 10 * ls);
        FloatVector r11 = FloatVector.fromArray(S, src, s + 11 * ls);
        FloatVector r12 = FloatVector.fromArray(S, src, s + 12 * ls);
        FloatVector r13 = FloatVector.fromArray(S, src, s + 13 * ls);
        FloatVector r14 = FloatVector.fromArray(S, src, s + 14 * ls);
        FloatVector r15 = FloatVector.fromArray(S, src, s + 15 * ls);
        FloatVector a0 = S8_LO.selectFrom(r0, r8), a8 = S8_HI.selectFrom(r0, r8);
        FloatVector a1 = S8_LO.selectFrom(r1, r9), a9 = S8_HI.selectFrom(r1, r9);
        FloatVector a2 = S8_LO.selectFrom(r2, r10), a10 = S8_HI.selectFrom(r2, r10);
        FloatVector a3 = S8_LO.selectFrom(r3, r11), a11 = S8_HI.selectFrom(r3, r11);
        FloatVector a4 = S8_LO.selectFrom(r4, r12), a12 = S8_HI.selectFrom(r4, r12);
        FloatVector a5 = S8_LO.selectFrom(r5, r13), a13 = S8_HI.selectFrom(r5, r13);
        FloatVector a6 = S8_LO.selectFrom(r6, r14), a14 = S8_HI.selectFrom(r6, r14);
        FloatVector a7 = S8_LO.selectFrom(r7, r15), a15 = S8_HI.selectFrom(r7, r15);
        FloatVector b0 = S4_LO.selectFrom(a0, a4), b4 = S4_HI.selectFrom(a0, a4);
        FloatVector b1 = S4_LO.selectFrom(a1, a5), b5 = S4_HI.selectFrom(a1, a5);
        FloatVector b2 = S4_LO.selectFrom(a2, a6), b6 = S4_HI.selectFrom(a2, a6);
        FloatVector b3 = S4_LO.selectFrom(a3, a7), b7 = S4_HI.selectFrom(a3, a7);
        FloatVector b8 = S4_LO.selectFrom(a8, a12), b12 = S4_HI.selectFrom(a8, a12);
        FloatVector b9 = S4_LO.selectFrom(a9, a13), b13 = S4_HI.selectFrom(a9, a13);
        FloatVector b10 = S4_LO.selectFrom(a10, a14), b14 = S4_HI.selectFrom(a10, a14);
        FloatVector b11 = S4_LO.selectFrom(a11, a15), b15 = S4_HI.selectFrom(a11, a15);
        FloatVector c0 = S2_LO.selectFrom(b0, b2), c2 = S2_HI.selectFrom(b0, b2);
        FloatVector c1 = S2_LO.selectFrom(b1, b3), c3 = S2_HI.selectFrom(b1, b3);
        FloatVector c4 = S2_LO.selectFrom(b4, b6), c6 = S2_HI.selectFrom(b4, b6);
        FloatVector c5 = S2_LO.selectFrom(b5, b7), c7 = S2_HI.selectFrom(b5, b7);
        FloatVector c8 = S2_LO.selectFrom(b8, b10), c10 = S2_HI.selectFrom(b8, b10);
        FloatVector c9 = S2_LO.selectFrom(b9, b11), c11 = S2_HI.selectFrom(b9, b11);
        FloatVector c12 = S2_LO.selectFrom(b12, b14), c14 = S2_HI.selectFrom(b12, b14);
        FloatVector c13 = S2_LO.selectFrom(b13, b15), c15 = S2_HI.selectFrom(b13, b15);
        FloatVector e0 = S1_LO.selectFrom(c0, c1), e1 = S1_HI.selectFrom(c0, c1);
        FloatVector e2 = S1_LO.selectFrom(c2, c3), e3 = S1_HI.selectFrom(c2, c3);
        FloatVector e4 = S1_LO.selectFrom(c4, c5), e5 = S1_HI.selectFrom(c4, c5);
        FloatVector e6 = S1_LO.selectFrom(c6, c7), e7 = S1_HI.selectFrom(c6, c7);
        FloatVector e8 = S1_LO.selectFrom(c8, c9), e9 = S1_HI.selectFrom(c8, c9);
        FloatVector e10 = S1_LO.selectFrom(c10, c11), e11 = S1_HI.selectFrom(c10, c11);
        FloatVector e12 = S1_LO.selectFrom(c12, c13), e13 = S1_HI.selectFrom(c12, c13);
        FloatVector e14 = S1_LO.selectFrom(c14, c15), e15 = S1_HI.selectFrom(c14, c15);
        e0.intoArray(dst, d);
        e1.intoArray(dst, d + ld);
        e2.intoArray(dst, d + 2 * ld);
        e3.intoArray(dst, d + 3 * ld);
        e4.intoArray(dst, d + 4 * ld);
        e5.intoArray(dst, d + 5 * ld);
        e6.intoArray(dst, d + 6 * ld);
        e7.intoArray(dst, d + 7 * ld);
        e8.intoArray(dst, d + 8 * ld);
        e9.intoArray(dst, d + 9 * ld);
        e10.intoArray(dst, d + 10 * ld);
        e11.intoArray(dst, d + 11 * ld);
        e12.intoArray(dst, d + 12 * ld);
        e13.intoArray(dst, d + 13 * ld);
        e14.intoArray(dst, d + 14 * ld);
        e15.intoArray(dst, d + 15 * ld);
    }
}
