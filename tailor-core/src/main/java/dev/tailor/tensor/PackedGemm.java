package dev.tailor.tensor;

import static dev.tailor.tensor.WeightVectors.F;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * {@code Y = X·Wᵀ} for many rows of X (prefill, training): W packed into cache-sized panels, register-blocked.
 *
 * <p>Loop nest (BLIS-style, with W in the role of BLIS's vector operand): the columns of Y (rows of W) are
 * cut into groups of {@link #NR}-wide panels whose packed copy fits in L2 — the parallel tasks. A task walks
 * k in blocks of at most {@link #KC_MAX}; per block it packs its W rows into {@code [panel][p][NR]} floats
 * (widened from BF16/F16 once here), then for every {@link #MR}-row tile of X (which stays in L1) runs the
 * micro-kernel over each panel. The micro-kernel keeps an {@code MR × NR} tile of Y in {@code 2·MR} vector
 * registers and per k step does two vector loads of W, MR broadcasts of X and {@code 2·MR} FMAs. Ragged
 * column panels are zero-padded in the pack and stored with masks; leftover rows use a one-row kernel.
 */
final class PackedGemm {
    /** Rows of X per micro-tile. */
    static final int MR = 6;
    /** Columns of Y per micro-tile (two vectors). */
    static final int NR = 2 * L;
    /** Largest k block: keeps an MR-row tile of X within L1. */
    static final int KC_MAX = 512;
    /** Target size of one task's packed W group (half of a 1 MiB L2). */
    private static final int GROUP_BYTES = 512 * 1024;
    /** k steps packed per pass over a panel's rows. */
    private static final int PACK_BLOCK = 64;
    private static final ThreadLocal<float[]> PACK = ThreadLocal.withInitial(() -> new float[0]);

    private PackedGemm() {
    }

    /** {@code y[yOff + i·n + j] = Σ_c x[xOff + i·k + c] · w[j, c]} for {@code i < m}. */
    static void run(float[] x, int xOff, int m, WeightMatrix w, float[] y, int yOff) {
        int n = w.rows();
        int k = w.cols();
        int kc = ceilDiv(k, ceilDiv(k, KC_MAX));
        int panels = ceilDiv(n, NR);
        int threads = Parallel.threads();
        int maxPanels = Math.max(1, GROUP_BYTES / (kc * NR * Float.BYTES));
        int wanted = Math.max(ceilDiv(panels, maxPanels), Math.min(panels, 4 * threads));
        int perGroup = ceilDiv(panels, wanted);
        int groups = ceilDiv(panels, perGroup);
        int rowTiles = ceilDiv(m, MR);
        int mChunks = groups >= threads ? 1 : Math.min(rowTiles, ceilDiv(threads, groups));
        Parallel.parallelFor(groups * mChunks, t -> {
            int g = t / mChunks;
            int c = t % mChunks;
            int j0 = g * perGroup * NR;
            int j1 = Math.min(n, j0 + perGroup * NR);
            int i0 = (int) ((long) rowTiles * c / mChunks) * MR;
            int i1 = Math.min(m, (int) ((long) rowTiles * (c + 1) / mChunks) * MR);
            block(x, xOff, w, y, yOff, i0, i1, j0, j1, kc);
        });
    }

    private static void block(float[] x, int xOff, WeightMatrix w, float[] y, int yOff,
                              int i0, int i1, int j0, int j1, int kc) {
        int n = w.rows();
        int k = w.cols();
        int np = ceilDiv(j1 - j0, NR);
        float[] pack = buffer(np * kc * NR);
        for (int k0 = 0; k0 < k; k0 += kc) {
            int kb = Math.min(kc, k - k0);
            pack(w, j0, j1, k0, kb, pack);
            boolean first = k0 == 0;
            int i = i0;
            for (; i + MR <= i1; i += MR) {
                for (int p = 0; p < np; p++) {
                    int jp = j0 + p * NR;
                    kernel6(x, xOff + i * k + k0, k, pack, p * kb * NR, kb,
                            y, yOff + i * n + jp, n, Math.min(NR, j1 - jp), first);
                }
            }
            for (; i < i1; i++) {
                for (int p = 0; p < np; p++) {
                    int jp = j0 + p * NR;
                    kernel1(x, xOff + i * k + k0, pack, p * kb * NR, kb,
                            y, yOff + i * n + jp, Math.min(NR, j1 - jp), first);
                }
            }
        }
    }

    /** Packs W rows {@code [j0, j1)}, columns {@code [k0, k0 + kb)} as {@code [panel][p][NR]}, zero-padded. */
    static void pack(WeightMatrix w, int j0, int j1, int k0, int kb, float[] dst) {
        int np = ceilDiv(j1 - j0, NR);
        for (int panel = 0; panel < np; panel++) {
            int base = panel * kb * NR;
            // blocks of PACK_BLOCK k steps keep the panel's destination lines (PACK_BLOCK·NR floats) in L1
            // while all NR rows are written into them
            for (int p0 = 0; p0 < kb; p0 += PACK_BLOCK) {
                int p1 = Math.min(kb, p0 + PACK_BLOCK);
                for (int c = 0; c < NR; c++) {
                    int j = j0 + panel * NR + c;
                    int d = base + p0 * NR + c;
                    if (j < j1) {
                        packRow(w, (long) j * w.cols() + k0 + p0, p1 - p0, dst, d);
                    } else {
                        for (int p = p0; p < p1; p++, d += NR) {
                            dst[d] = 0f;
                        }
                    }
                }
            }
        }
    }

    /** {@code dst[d + p·NR] = w[src + p]} widened, for {@code p < count}. */
    private static void packRow(WeightMatrix w, long src, int count, float[] dst, int d) {
        MemorySegment seg = w.data();
        switch (w.dtype()) {
            case F32 -> {
                for (int p = 0; p < count; p++) {
                    dst[d + p * NR] = seg.getAtIndex(Numerics.F32_LE, src + p);
                }
            }
            case BF16 -> {
                for (int p = 0; p < count; p++) {
                    dst[d + p * NR] = Numerics.bf16ToFloat(seg.getAtIndex(Numerics.I16_LE, src + p));
                }
            }
            case F16 -> {
                for (int p = 0; p < count; p++) {
                    dst[d + p * NR] = Float.float16ToFloat(seg.getAtIndex(Numerics.I16_LE, src + p));
                }
            }
            default -> throw new IllegalArgumentException("not a float weight type: " + w.dtype());
        }
    }

    /** Y tile {@code [6, NR]} (+)= X rows {@code [6, kb]} · packed panel {@code [kb, NR]}. */
    private static void kernel6(float[] x, int xo, int k, float[] b, int bo, int kb,
                                float[] y, int yo, int n, int cols, boolean first) {
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        int x0 = xo;
        int x1 = x0 + k;
        int x2 = x1 + k;
        int x3 = x2 + k;
        int x4 = x3 + k;
        int x5 = x4 + k;
        for (int p = 0; p < kb; p++) {
            int bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, bp);
            FloatVector b1 = FloatVector.fromArray(F, b, bp + L);
            FloatVector a = FloatVector.broadcast(F, x[x0 + p]);
            c00 = b0.fma(a, c00);
            c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(F, x[x1 + p]);
            c10 = b0.fma(a, c10);
            c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(F, x[x2 + p]);
            c20 = b0.fma(a, c20);
            c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(F, x[x3 + p]);
            c30 = b0.fma(a, c30);
            c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(F, x[x4 + p]);
            c40 = b0.fma(a, c40);
            c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(F, x[x5 + p]);
            c50 = b0.fma(a, c50);
            c51 = b1.fma(a, c51);
        }
        store(c00, c01, y, yo, cols, first);
        store(c10, c11, y, yo + n, cols, first);
        store(c20, c21, y, yo + 2 * n, cols, first);
        store(c30, c31, y, yo + 3 * n, cols, first);
        store(c40, c41, y, yo + 4 * n, cols, first);
        store(c50, c51, y, yo + 5 * n, cols, first);
    }

    /** Y row {@code [1, NR]} (+)= X row {@code [1, kb]} · packed panel {@code [kb, NR]}. */
    private static void kernel1(float[] x, int xo, float[] b, int bo, int kb,
                                float[] y, int yo, int cols, boolean first) {
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = c0;
        for (int p = 0; p < kb; p++) {
            int bp = bo + p * NR;
            FloatVector a = FloatVector.broadcast(F, x[xo + p]);
            c0 = FloatVector.fromArray(F, b, bp).fma(a, c0);
            c1 = FloatVector.fromArray(F, b, bp + L).fma(a, c1);
        }
        store(c0, c1, y, yo, cols, first);
    }

    /** Writes (or adds, after the first k block) the first {@code cols} lanes of {@code [lo, hi]} to y. */
    private static void store(FloatVector lo, FloatVector hi, float[] y, int yo, int cols, boolean first) {
        if (cols == NR) {
            if (!first) {
                lo = lo.add(FloatVector.fromArray(F, y, yo));
                hi = hi.add(FloatVector.fromArray(F, y, yo + L));
            }
            lo.intoArray(y, yo);
            hi.intoArray(y, yo + L);
        } else {
            for (int c = 0; c < cols; c++) {
                float v = c < L ? lo.lane(c) : hi.lane(c - L);
                y[yo + c] = first ? v : y[yo + c] + v;
            }
        }
    }

    private static float[] buffer(int size) {
        float[] b = PACK.get();
        if (b.length < size) {
            b = new float[size];
            PACK.set(b);
        }
        return b;
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
