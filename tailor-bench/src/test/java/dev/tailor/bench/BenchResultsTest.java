package dev.tailor.bench;

import dev.tailor.cost.MachineLimits;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Every finished line names the processor; a rate gets its fraction of the limit for its own thread count, none for a
 * thread count that was not measured, and the limits are asked for once, only when a line has a rate.
 */
class BenchResultsTest {
    private static final MachineLimits LIMITS = new MachineLimits("Test CPU 9000", 2, 2, 100.0, 200.0, 250.0, 10.0,
            16.0, 14.0, 15.0, 1L << 30, 0.1, "2026-01-01T00:00:00Z");

    private static Map<String, Object> line(Object... keysAndValues) {
        Map<String, Object> r = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            r.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return r;
    }

    @Test
    void ratesGetTheirFractionOfTheLimitForTheirThreadCount() {
        AtomicInteger asked = new AtomicInteger();
        BenchResults results = new BenchResults("Test CPU 9000", () -> {
            asked.incrementAndGet();
            return LIMITS;
        });
        Map<String, Object> matmul = results.finish(line("mode", "matmul", "gflops_median", 150.0,
                "gflops_best", 170.0, "gbps_weights_median", 4.0, "threads", 2));
        assertEquals("Test CPU 9000", matmul.get("cpu"));
        assertEquals(0.75, matmul.get("gflops_median_of_fma_peak"));
        assertEquals(0.85, matmul.get("gflops_best_of_fma_peak"));
        assertEquals(0.25, matmul.get("gbps_weights_median_of_stream_read"));

        Map<String, Object> decode = results.finish(line("mode", "decode", "weight_gb_per_s", 8.0, "threads", 1));
        assertEquals(0.8, decode.get("weight_gb_per_s_of_stream_read"));
        Map<String, Object> prefill = results.finish(line("mode", "prefill", "gflops", 60.0, "threads", 1));
        assertEquals(0.6, prefill.get("gflops_of_fma_peak"));
        assertEquals(1, asked.get());

        Map<String, Object> unmeasured = results.finish(line("mode", "prefill", "gflops", 60.0, "threads", 3));
        assertFalse(unmeasured.containsKey("gflops_of_fma_peak"));
        assertEquals("Test CPU 9000", unmeasured.get("cpu"));
    }

    @Test
    void aLineWithoutRatesDoesNotAskForTheLimits() {
        BenchResults results = new BenchResults("Test CPU 9000", () -> {
            throw new AssertionError("limits asked for");
        });
        Map<String, Object> fuzz = results.finish(line("mode", "fuzz", "target", "jsonl", "trials", 10));
        assertEquals("Test CPU 9000", fuzz.get("cpu"));
        assertEquals(4, fuzz.size());
    }
}
