package dev.tailor.tensor;

import static dev.tailor.tensor.PackedGemm.NR;
import static dev.tailor.tensor.WeightVectors.L;

import java.lang.foreign.MemorySegment;

/**
 * {@code dX = dY·W} for a linear layer's backward pass: an NN product whose right operand is W itself,
 * {@code [n, k]} row-major with the reduction over its rows.
 *
 * <p>Runs {@link PackedGemm}'s loop nest and micro-kernels with dY in the role of X and this class's
 * packer in place of the forward one. A panel of B = W is {@code NR} consecutive columns of consecutive W
 * rows, so packing is a run of contiguous two-vector copies per W row, widened from BF16/F16 in-register
 * ({@link WeightVectors}); only a ragged last panel is copied element by element and zero-padded.
 */
final class InputGradGemm {
    private InputGradGemm() {
    }

    /** {@code dx[i, c] = Σ_j dy[i, j] · w[j, c]} for {@code i < m}, overwriting dx; {@code w.rows() > 0}. */
    static void run(float[] dy, int m, WeightMatrix w, float[] dx) {
        PackedGemm.run(dy, 0, m, w.cols(), w.rows(), (c0, c1, p0, kb, dst) -> pack(w, c0, c1, p0, kb, dst),
                dx, 0);
    }

    /**
     * Packs W rows {@code [p0, p0 + kb)}, columns {@code [c0, c1)} as {@code [panel][p][NR]}: the panel layout
     * of {@link PackedGemm.PanelPacker} with B = W.
     */
    static void pack(WeightMatrix w, int c0, int c1, int p0, int kb, float[] dst) {
        int full = (c1 - c0) / NR;
        switch (w.dtype()) {
            case F32 -> packF32(w.data(), w.cols(), c0, full, p0, kb, dst);
            case BF16 -> packBf16(w.data(), w.cols(), c0, full, p0, kb, dst);
            case F16 -> packF16(w.data(), w.cols(), c0, full, p0, kb, dst);
            default -> throw new IllegalArgumentException("not a float weight type: " + w.dtype());
        }
        int cr = c0 + full * NR;
        if (cr < c1) {
            int base = full * kb * NR;
            for (int p = 0; p < kb; p++) {
                long row = (long) (p0 + p) * w.cols();
                int d = base + p * NR;
                for (int jj = 0; jj < NR; jj++) {
                    int c = cr + jj;
                    dst[d + jj] = c < c1 ? Numerics.load(w.data(), w.dtype(), row + c) : 0f;
                }
            }
        }
    }

    // One loop per type, as in Gemv, so each compiles to straight vector code.

    private static void packF32(MemorySegment w, long k, int c0, int full, int p0, int kb, float[] dst) {
        for (int p = 0; p < kb; p++) {
            long src = (p0 + p) * k + c0;
            for (int q = 0; q < full; q++) {
                int d = q * kb * NR + p * NR;
                WeightVectors.f32(w, src + (long) q * NR).intoArray(dst, d);
                WeightVectors.f32(w, src + (long) q * NR + L).intoArray(dst, d + L);
            }
        }
    }

    private static void packBf16(MemorySegment w, long k, int c0, int full, int p0, int kb, float[] dst) {
        for (int p = 0; p < kb; p++) {
            long src = (p0 + p) * k + c0;
            for (int q = 0; q < full; q++) {
                int d = q * kb * NR + p * NR;
                WeightVectors.bf16(w, src + (long) q * NR).intoArray(dst, d);
                WeightVectors.bf16(w, src + (long) q * NR + L).intoArray(dst, d + L);
            }
        }
    }

    private static void packF16(MemorySegment w, long k, int c0, int full, int p0, int kb, float[] dst) {
        for (int p = 0; p < kb; p++) {
            long src = (p0 + p) * k + c0;
            for (int q = 0; q < full; q++) {
                int d = q * kb * NR + p * NR;
                WeightVectors.f16(w, src + (long) q * NR).intoArray(dst, d);
                WeightVectors.f16(w, src + (long) q * NR + L).intoArray(dst, d + L);
            }
        }
    }
}
