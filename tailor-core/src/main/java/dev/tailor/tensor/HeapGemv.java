package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import jdk.incubator.vector.FloatVector;

/**
 * {@link Gemv} for an F32 W held in a float array ({@link WeightMatrix#of}: trainable weights, adapters' small
 * matrices), read with array loads so that no heap segment ever reaches the segment loads of the kernels that stream
 * the base's native weights ({@link WeightVectors#heapFloats}).
 *
 * <p>Every output is computed in {@link Gemv}'s order (one vector accumulator over the whole vectors of the row by
 * fused multiply-adds, its lanes summed by the fixed tree of {@link VectorMath#sum}, the {@code k mod L} tail added one
 * product at a time), so a heap W gives the bits of the same W in native memory, and the products stay batch
 * invariant. Each X row goes against four W rows at a time; these matrices are small or trained, so there are no
 * multi-row tiles.
 */
final class HeapGemv {
    private HeapGemv() {
    }

    /**
     * W rows {@code [j0, j1)} (W {@code [n, k]} at {@code w[wOff …]}) against every row of X:
     * {@code y[yOff + i·n + j] = Σ_c x[xOff + i·k + c] · w[wOff + j·k + c]} for {@code i < m}.
     */
    static void rows(float[] x, int xOff, int m, float[] w, int wOff, int k, int n, float[] y, int yOff, int j0,
                     int j1) {
        for (int i = 0; i < m; i++) {
            row(x, xOff + i * k, w, wOff, k, j0, j1, y, yOff + i * n);
        }
    }

    /** The X row at {@code xo} against W rows {@code [j0, j1)}, four at a time as {@link Gemv}'s rows are. */
    private static void row(float[] x, int xo, float[] w, int wOff, int k, int j0, int j1, float[] y, int yo) {
        int vectors = k / L * L;
        int sweep = RowSweeps.quarter(j0, j1);
        for (int j = j0; j < j0 + sweep; j++) {
            int jb = Math.min(j + sweep, j1 - 1);
            int jc = Math.min(j + 2 * sweep, j1 - 1);
            int jd = Math.min(j + 3 * sweep, j1 - 1);
            int ra = wOff + j * k;
            int rb = wOff + jb * k;
            int rc = wOff + jc * k;
            int rd = wOff + jd * k;
            FloatVector aa = FloatVector.zero(F);
            FloatVector ab = aa;
            FloatVector ac = aa;
            FloatVector ad = aa;
            int c = 0;
            for (; c < vectors; c += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + c);
                aa = FloatVector.fromArray(F, w, ra + c).fma(xv, aa);
                ab = FloatVector.fromArray(F, w, rb + c).fma(xv, ab);
                ac = FloatVector.fromArray(F, w, rc + c).fma(xv, ac);
                ad = FloatVector.fromArray(F, w, rd + c).fma(xv, ad);
            }
            if (L > 8) {
                aa = aa.add(aa.rearrange(VectorMath.ROTATE_8));
                ab = ab.add(ab.rearrange(VectorMath.ROTATE_8));
                ac = ac.add(ac.rearrange(VectorMath.ROTATE_8));
                ad = ad.add(ad.rearrange(VectorMath.ROTATE_8));
            }
            if (L > 4) {
                aa = aa.add(aa.rearrange(VectorMath.ROTATE_4));
                ab = ab.add(ab.rearrange(VectorMath.ROTATE_4));
                ac = ac.add(ac.rearrange(VectorMath.ROTATE_4));
                ad = ad.add(ad.rearrange(VectorMath.ROTATE_4));
            }
            if (L > 2) {
                aa = aa.add(aa.rearrange(VectorMath.ROTATE_2));
                ab = ab.add(ab.rearrange(VectorMath.ROTATE_2));
                ac = ac.add(ac.rearrange(VectorMath.ROTATE_2));
                ad = ad.add(ad.rearrange(VectorMath.ROTATE_2));
            }
            aa = aa.add(aa.rearrange(VectorMath.ROTATE_1));
            ab = ab.add(ab.rearrange(VectorMath.ROTATE_1));
            ac = ac.add(ac.rearrange(VectorMath.ROTATE_1));
            ad = ad.add(ad.rearrange(VectorMath.ROTATE_1));
            float ta = aa.lane(0);
            float tb = ab.lane(0);
            float tc = ac.lane(0);
            float td = ad.lane(0);
            for (; c < k; c++) {
                float xc = x[xo + c];
                ta += xc * w[ra + c];
                tb += xc * w[rb + c];
                tc += xc * w[rc + c];
                td += xc * w[rd + c];
            }
            y[yo + j] = ta;
            y[yo + jb] = tb;
            y[yo + jc] = tc;
            y[yo + jd] = td;
        }
    }
}
