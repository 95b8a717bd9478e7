package dev.tailor.bench;

import dev.tailor.cost.MachineCalibration;
import dev.tailor.cost.MachineLimits;
import dev.tailor.tensor.Parallel;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Where every benchmark's {@code RESULT} is finished before it is printed: it gets the processor's model
 * ({@code cpu}), and each rate it reports, GFLOP/s of products or GB/s of weights streamed, gets its fraction of this
 * machine's measured limit for the line's thread count ({@code KEY_of_fma_peak}, {@code KEY_of_stream_read}; see
 * {@link MachineLimits}). The limits are asked for once, at the first line that reports a rate, after the benchmark
 * has run (so measuring them, the first time, disturbs neither its timing nor its peak RSS); a line whose thread
 * count was not measured (neither one thread nor the kernel threads) gets no fraction.
 */
public final class BenchResults {
    /** The keys of product rates, in GFLOP/s. */
    static final List<String> FLOP_RATES = List.of("gflops", "gflops_median", "gflops_best");
    /** The keys of streamed weight rates, in GB/s. */
    static final List<String> BYTE_RATES = List.of("weight_gb_per_s", "gbps_weights_median");

    private final String cpu;
    private final Supplier<MachineLimits> limitsSource;
    private MachineLimits limits;

    /** Results finished with {@code cpu} and the limits {@code limits} gives (asked for at most once). */
    BenchResults(String cpu, Supplier<MachineLimits> limits) {
        this.cpu = cpu;
        this.limitsSource = limits;
    }

    /**
     * Results finished with this processor's model and its limits from the user's cache directory
     * ({@link MachineCalibration#cacheDir}), measured and cached there on first use, {@code notes} hearing so.
     */
    public static BenchResults ofThisMachine(Consumer<String> notes) {
        return new BenchResults(MachineCalibration.cpuModel(), () -> MachineLimits.load(cacheDir(), notes));
    }

    /** The user's cache directory, {@link MachineCalibration#cacheDir} from this process's environment. */
    static Path cacheDir() {
        return MachineCalibration.cacheDir(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** Adds the processor's model and the fractions of the limits to {@code r}, and returns it. */
    public Map<String, Object> finish(Map<String, Object> r) {
        r.put("cpu", cpu);
        int threads = r.get("threads") instanceof Number n ? n.intValue() : Parallel.threads();
        for (String key : FLOP_RATES) {
            if (r.get(key) instanceof Number v) {
                fraction(r, key + "_of_fma_peak", v, limits().fmaGflops(threads));
            }
        }
        for (String key : BYTE_RATES) {
            if (r.get(key) instanceof Number v) {
                fraction(r, key + "_of_stream_read", v, limits().readGbPerS(threads));
            }
        }
        return r;
    }

    private static void fraction(Map<String, Object> r, String key, Number value, OptionalDouble limit) {
        if (limit.isPresent() && limit.getAsDouble() > 0) {
            r.put(key, InferenceBench.round(value.doubleValue() / limit.getAsDouble(), 3));
        }
    }

    private MachineLimits limits() {
        if (limits == null) {
            limits = limitsSource.get();
        }
        return limits;
    }
}
