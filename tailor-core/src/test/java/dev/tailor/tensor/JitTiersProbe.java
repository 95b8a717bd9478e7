package dev.tailor.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Runs the products' kernels often enough for the JIT to compile them: the panel tiles over mapped F32 and BF16
 * matrices (whole panels and a partial last one), the row-streaming kernels over held F32, F16, Q8_0, Q4_0 and
 * K-quant weights, every tile's row count, and the packed GEMM. {@link JitTiersTest} runs it in a JVM that compiles no
 * higher than C1's tier 3.
 */
final class JitTiersProbe {
    private static final int K = 64;
    private static final int REPS = 3;

    private JitTiersProbe() {
    }

    public static void main(String[] args) {
        SplittableRandom rnd = new SplittableRandom(5);
        int l = WeightVectors.L;
        try (Arena arena = Arena.ofShared()) {
            for (int n : new int[] {4 * l, 4 * l - 3}) {
                for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
                    run(PanelGemvTest.mapped(arena, MatMulTest.randoms(rnd, n * K), dtype, n, K), rnd);
                }
                WeightMatrix held = WeightMatrix.of(MatMulTest.randoms(rnd, n * K), n, K);
                run(held, rnd);
                run(f16(arena, MatMulTest.randoms(rnd, n * K), n), rnd);
                for (DType dtype : new DType[] {DType.Q8_0, DType.Q4_0}) {
                    run(WeightMatrix.quantize(held, dtype, arena), rnd);
                }
                for (DType dtype : new DType[] {DType.Q4_K, DType.Q5_K, DType.Q6_K}) {
                    run(QuantMatMulTest.randomQuantized(dtype, n, Quantization.QK_K, rnd, arena), rnd, 1, 4);
                }
            }
        }
    }

    /** {@code values} as an F16 matrix held in memory. */
    private static WeightMatrix f16(Arena arena, float[] values, int rows) {
        byte[] bytes = MatMulTest.encode(values, DType.F16);
        MemorySegment seg = arena.allocate(bytes.length, 64);
        MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return new WeightMatrix(seg, DType.F16, rows, K);
    }

    private static void run(WeightMatrix w, SplittableRandom rnd) {
        run(w, rnd, 1, 2, 4, 8, 17, 64);
    }

    /** Products of {@code w} against each of {@code rows} rows of X, streaming and batch invariant. */
    private static void run(WeightMatrix w, SplittableRandom rnd, int... rows) {
        for (int m : rows) {
            float[] x = MatMulTest.randoms(rnd, m * w.cols());
            float[] y = new float[m * w.rows()];
            for (int rep = 0; rep < REPS; rep++) {
                MatMul.matmulTransposed(x, m, w, y);
                MatMul.batchInvariant(() -> {
                    MatMul.matmulTransposed(x, m, w, y);
                    return null;
                });
            }
        }
    }
}
