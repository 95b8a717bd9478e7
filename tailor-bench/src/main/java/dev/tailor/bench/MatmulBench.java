package dev.tailor.bench;

import dev.tailor.train.ProcessStats;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Numerics;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Times {@link MatMul#matmulTransposed} on the peer benchmark's shapes and the decode GEMVs of a
 * SmolLM-135M-sized model, for F32 and BF16 weights, and reports one {@code RESULT {json}} line per shape
 * with the keys of {@code torch_peer.py matmul} (plus {@code dtype}, {@code threads}, {@code peak_rss_mib}).
 *
 * <p>Each shape is run for {@code warmSeconds}, then timed call by call for {@code measureSeconds} (at
 * least five calls); the median and the best call are reported. Weights live in native memory, as a
 * memory-mapped model file would.
 */
public final class MatmulBench {
    /** {@code {M, K, N}}: the peer's GEMMs and GEMV, then decode GEMVs (attention/MLP, lm_head). */
    static final int[][] SHAPES = {
        {512, 576, 1536}, {512, 1536, 576}, {1, 2048, 8192},
        {1, 576, 1536}, {1, 1536, 576}, {1, 576, 49152},
    };

    private MatmulBench() {
    }

    /**
     * Runs every shape for F32 and BF16 weights.
     *
     * @param threads        the kernel thread count; must equal {@link Parallel#threads()} (set the
     *                       {@code tailor.threads} system property before the first kernel call)
     * @param warmSeconds    untimed warm-up per shape
     * @param measureSeconds timed duration per shape
     * @return the results, one map per shape and dtype, in print order
     */
    public static List<Map<String, Object>> run(int threads, double warmSeconds, double measureSeconds) {
        return run(threads, warmSeconds, measureSeconds, List.of(DType.F32, DType.BF16));
    }

    /** {@link #run(int, double, double)} for the given weight types (float or Q8_0/Q4_0), each shape in each. */
    public static List<Map<String, Object>> run(int threads, double warmSeconds, double measureSeconds,
                                                List<DType> dtypes) {
        if (threads != Parallel.threads()) {
            throw new IllegalArgumentException("the kernel pool has " + Parallel.threads()
                    + " threads; start the JVM with -Dtailor.threads=" + threads + " to measure " + threads);
        }
        List<Map<String, Object>> results = new ArrayList<>();
        for (int[] s : SHAPES) {
            for (DType dtype : dtypes) {
                results.add(measure(s[0], s[1], s[2], dtype, warmSeconds, measureSeconds));
            }
        }
        return results;
    }

    /** Times one shape; see {@link #run}. */
    public static Map<String, Object> measure(int m, int k, int n, DType dtype, double warmSeconds,
                                              double measureSeconds) {
        return measure(m, k, n, dtype, warmSeconds, measureSeconds, false);
    }

    /**
     * Times one shape, each call inside {@link MatMul#batchInvariant} when {@code batchInvariant} (the streaming
     * kernel for every row count, as a server batching requests runs it); see {@link #run}.
     */
    public static Map<String, Object> measure(int m, int k, int n, DType dtype, double warmSeconds,
                                              double measureSeconds, boolean batchInvariant) {
        SplittableRandom rnd = new SplittableRandom(42);
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] y = new float[m * n];
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = randomWeight(arena, n, k, dtype, rnd);
            Runnable product = () -> MatMul.matmulTransposed(x, m, w, y);
            Runnable call = batchInvariant ? () -> MatMul.batchInvariant(() -> {
                product.run();
                return null;
            }) : product;
            long warmEnd = System.nanoTime() + (long) (warmSeconds * 1e9);
            while (System.nanoTime() < warmEnd) {
                call.run();
            }
            List<Long> times = new ArrayList<>();
            long end = System.nanoTime() + (long) (measureSeconds * 1e9);
            while (System.nanoTime() < end || times.size() < 5) {
                long t0 = System.nanoTime();
                call.run();
                times.add(System.nanoTime() - t0);
            }
            long[] sorted = times.stream().mapToLong(Long::longValue).sorted().toArray();
            double med = sorted[sorted.length / 2] / 1e9;
            double best = sorted[0] / 1e9;
            double flops = 2.0 * m * n * k;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("mode", "matmul");
            r.put("op", "matmulTransposed");
            r.put("M", m);
            r.put("K", k);
            r.put("N", n);
            r.put("dtype", dtype.name());
            r.put("batch_invariant", batchInvariant);
            r.put("median_ms", round(med * 1e3, 3));
            r.put("best_ms", round(best * 1e3, 3));
            r.put("gflops_median", round(flops / med / 1e9, 2));
            r.put("gflops_best", round(flops / best / 1e9, 2));
            r.put("gbps_weights_median", round((double) n * dtype.bytesFor(k) / med / 1e9, 2));
            r.put("iters", sorted.length);
            r.put("threads", Parallel.threads());
            r.put("peak_rss_mib", round(ProcessStats.peakRssMib(), 1));
            return r;
        }
    }

    /**
     * A {@code [n, k]} weight with N(0, 1) entries in native memory, stored as {@code dtype} (Q8_0/Q4_0: quantized by
     * ggml's reference quantizer).
     */
    static WeightMatrix randomWeight(Arena arena, int n, int k, DType dtype, SplittableRandom rnd) {
        if (dtype.isQuantized()) {
            return WeightMatrix.quantize(randomWeight(arena, n, k, DType.F32, rnd), dtype, arena);
        }
        long count = (long) n * k;
        MemorySegment seg = arena.allocate(count * dtype.byteSize(), 64);
        ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfShort i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < count; i++) {
            float v = (float) rnd.nextGaussian();
            switch (dtype) {
                case F32 -> seg.setAtIndex(f32, i, v);
                case BF16 -> seg.setAtIndex(i16, i, Numerics.floatToBf16(v));
                case F16 -> seg.setAtIndex(i16, i, Numerics.floatToF16(v));
                default -> throw new IllegalArgumentException("not a float weight type: " + dtype);
            }
        }
        return new WeightMatrix(seg, dtype, n, k);
    }

    /** {@code RESULT {json}} of {@code r} finished by {@link BenchResults} (the processor, the limits' fractions). */
    static String resultLine(Map<String, Object> r) {
        return "RESULT " + toJson(BenchResults.ofThisMachine(System.err::println).finish(r));
    }

    /** A flat JSON object of numbers and strings, in insertion order. */
    static String toJson(Map<String, Object> r) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Object> e : r.entrySet()) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append('"').append(e.getKey()).append("\": ");
            Object v = e.getValue();
            sb.append(v instanceof String s ? "\"" + s + "\"" : String.valueOf(v));
        }
        return sb.append('}').toString();
    }

    private static double round(double v, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(v * scale) / scale;
    }

    /**
     * Usage: {@code MatmulBench [--batch-invariant] [--dtypes T,T…] [warmSeconds] [measureSeconds] [M K N ...]};
     * with shapes given, times only those (in F32, BF16 and F16 unless {@code --dtypes} names others, e.g.
     * {@code F32,Q8_0,Q4_0}), inside {@link MatMul#batchInvariant} with {@code --batch-invariant}. Thread count comes
     * from {@code -Dtailor.threads}.
     */
    public static void main(String[] args) {
        boolean batchInvariant = args.length > 0 && args[0].equals("--batch-invariant");
        String[] rest = batchInvariant ? Arrays.copyOfRange(args, 1, args.length) : args;
        List<DType> dtypes = List.of(DType.F32, DType.BF16, DType.F16);
        if (rest.length > 1 && rest[0].equals("--dtypes")) {
            dtypes = Arrays.stream(rest[1].split(",")).map(DType::valueOf).toList();
            rest = Arrays.copyOfRange(rest, 2, rest.length);
        }
        double warm = rest.length > 0 ? Double.parseDouble(rest[0]) : 1.0;
        double meas = rest.length > 1 ? Double.parseDouble(rest[1]) : 2.0;
        if (rest.length > 2) {
            int[] dims = Arrays.stream(rest, 2, rest.length).mapToInt(Integer::parseInt).toArray();
            for (int i = 0; i + 2 < dims.length; i += 3) {
                for (DType dtype : dtypes) {
                    System.out.println(resultLine(measure(dims[i], dims[i + 1], dims[i + 2], dtype, warm, meas,
                            batchInvariant)));
                }
            }
            return;
        }
        if (batchInvariant) {
            throw new IllegalArgumentException("--batch-invariant times the shapes given after it (M K N ...)");
        }
        run(Parallel.threads(), warm, meas).forEach(r -> System.out.println(resultLine(r)));
    }
}
