package dev.tailor.bench;

import dev.tailor.cost.MachineLimits;
import dev.tailor.tensor.Parallel;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code tailor bench machine}: this processor's FP32 FMA peak and streaming memory bandwidth measured now
 * ({@link MachineLimits}, a few seconds), cached where the other benchmarks read them for their fractions of the
 * limit.
 */
public final class MachineBench {
    private MachineBench() {
    }

    /**
     * Measures the limits, caches them in the user's cache directory unless other work disturbed them
     * ({@code notes} hears so) and returns the result fields.
     */
    public static Map<String, Object> run(Consumer<String> notes) {
        long t0 = System.nanoTime();
        MachineLimits limits = MachineLimits.measure(MachineLimits.defaultBufferBytes(), notes);
        double seconds = (System.nanoTime() - t0) / 1e9;
        Path file = MachineLimits.cacheFile(BenchResults.cacheDir(), Parallel.threads());
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", "machine");
        r.put("impl", "tailor");
        r.putAll(limits.fields());
        r.put("measure_s", InferenceBench.round(seconds, 2));
        r.put("cached", !limits.disturbed() && limits.write(file));
        return r;
    }
}
