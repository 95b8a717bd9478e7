package dev.tailor.bench;

import dev.tailor.tensor.DType;
import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Times a linear layer's backward products, {@link LinearBackward#inputGrad} ({@code dX = dY·W}) and
 * {@link LinearBackward#weightGrad} ({@code dW += dYᵀ·X}), on the training shapes of a SmolLM-135M-sized
 * model (sequence 256, batch 1): the attention projections, the MLP and the tied lm_head. Reports one
 * {@code RESULT {json}} line per op, shape and weight type, counting {@code 2·M·N·K} flops.
 *
 * <p>{@code inputGrad} is timed with F32 weights on the heap (trainable) and with F32, BF16, Q8_0 and Q4_0 weights
 * in native memory (as a memory-mapped base model, quantized ones frozen); {@code weightGrad} has no weight operand and is timed once.
 * Each case is run for {@code warmSeconds}, then timed call by call for {@code measureSeconds} (at least
 * five calls), reporting the median and the best call.
 */
public final class BackwardBench {
    /** {@code {M, N, K}} with W {@code [N, K]}: q/o, k/v, gate/up, down, lm_head at sequence 256. */
    static final int[][] SHAPES = {
        {256, 576, 576}, {256, 192, 576}, {256, 1536, 576}, {256, 576, 1536}, {256, 49152, 576},
    };

    private BackwardBench() {
    }

    /** Where a case's weight lives and in which type. */
    private enum Weights {
        HEAP_F32(DType.F32), NATIVE_F32(DType.F32), NATIVE_BF16(DType.BF16), NATIVE_Q8_0(DType.Q8_0),
        NATIVE_Q4_0(DType.Q4_0);

        final DType dtype;

        Weights(DType dtype) {
            this.dtype = dtype;
        }
    }

    /**
     * Runs every shape and prints a {@code RESULT} line per measurement.
     *
     * @param threads        the kernel thread count; must equal {@link Parallel#threads()} (set the
     *                       {@code tailor.threads} system property before the first kernel call)
     * @param warmSeconds    untimed warm-up per case
     * @param measureSeconds timed duration per case
     * @return the results, one map per case, in print order
     */
    public static List<Map<String, Object>> run(int threads, double warmSeconds, double measureSeconds) {
        if (threads != Parallel.threads()) {
            throw new IllegalArgumentException("the kernel pool has " + Parallel.threads()
                    + " threads; start the JVM with -Dtailor.threads=" + threads + " to measure " + threads);
        }
        List<Map<String, Object>> results = new ArrayList<>();
        for (int[] s : SHAPES) {
            for (Weights weights : Weights.values()) {
                results.add(print(measureInputGrad(s[0], s[1], s[2], weights, warmSeconds, measureSeconds)));
            }
            results.add(print(measureWeightGrad(s[0], s[1], s[2], warmSeconds, measureSeconds)));
        }
        return results;
    }

    private static Map<String, Object> print(Map<String, Object> r) {
        System.out.println(MatmulBench.resultLine(r));
        return r;
    }

    private static Map<String, Object> measureInputGrad(int m, int n, int k, Weights weights, double warm,
                                                        double measure) {
        SplittableRandom rnd = new SplittableRandom(42);
        float[] dy = gaussian(rnd, m * n);
        float[] dx = new float[m * k];
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = weights == Weights.HEAP_F32
                    ? WeightMatrix.of(gaussian(rnd, n * k), n, k)
                    : MatmulBench.randomWeight(arena, n, k, weights.dtype, rnd);
            long[] times = time(() -> LinearBackward.inputGrad(dy, m, w, dx), warm, measure);
            return result("inputGrad", m, n, k, weights.dtype.name()
                    + (weights == Weights.HEAP_F32 ? "_heap" : ""), times);
        }
    }

    private static Map<String, Object> measureWeightGrad(int m, int n, int k, double warm, double measure) {
        SplittableRandom rnd = new SplittableRandom(43);
        float[] dy = gaussian(rnd, m * n);
        float[] x = gaussian(rnd, m * k);
        float[] dw = new float[n * k];
        long[] times = time(() -> LinearBackward.weightGrad(dy, x, m, n, k, dw), warm, measure);
        return result("weightGrad", m, n, k, "F32", times);
    }

    /** Call durations in nanoseconds, sorted, after {@code warm} seconds of untimed calls. */
    private static long[] time(Runnable call, double warm, double measure) {
        long warmEnd = System.nanoTime() + (long) (warm * 1e9);
        while (System.nanoTime() < warmEnd) {
            call.run();
        }
        List<Long> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (measure * 1e9);
        while (System.nanoTime() < end || times.size() < 5) {
            long t0 = System.nanoTime();
            call.run();
            times.add(System.nanoTime() - t0);
        }
        return times.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    private static Map<String, Object> result(String op, int m, int n, int k, String dtype, long[] sorted) {
        double med = sorted[sorted.length / 2] / 1e9;
        double best = sorted[0] / 1e9;
        double flops = 2.0 * m * n * k;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", "backward");
        r.put("op", op);
        r.put("M", m);
        r.put("N", n);
        r.put("K", k);
        r.put("dtype", dtype);
        r.put("median_ms", round(med * 1e3, 3));
        r.put("best_ms", round(best * 1e3, 3));
        r.put("gflops_median", round(flops / med / 1e9, 2));
        r.put("gflops_best", round(flops / best / 1e9, 2));
        r.put("iters", sorted.length);
        r.put("threads", Parallel.threads());
        return r;
    }

    private static float[] gaussian(SplittableRandom rnd, int size) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    private static double round(double v, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(v * scale) / scale;
    }

    /**
     * Usage: {@code BackwardBench [warmSeconds] [measureSeconds]}. Thread count comes from
     * {@code -Dtailor.threads}.
     */
    public static void main(String[] args) {
        double warm = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        double meas = args.length > 1 ? Double.parseDouble(args[1]) : 2.0;
        run(Parallel.threads(), warm, meas);
    }
}
