package dev.tailor.cli;

import dev.tailor.bench.BenchShape;
import dev.tailor.bench.ServeBench;
import dev.tailor.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tailor bench serve} on a tiny shape: one result per configuration, its counts exact, its times ordered, then
 * the cold-start comparison.
 */
class BenchServeTest {
    @Test
    void measuresEveryConfigurationOfStreamsAndAdapters() throws Exception {
        BenchShape tiny = new BenchShape(64, 2, 4, 2, 128, 512, 16, 1, 8, 5, 1, 1, DType.F32);
        List<Map<String, Object>> results = ServeBench.run(tiny, List.of(1, 2), List.of(1, 2), 3, 1,
                BenchCommand::serve);
        assertEquals(5, results.size());
        int i = 0;
        for (int streams : List.of(1, 2)) {
            for (int adapters : List.of(1, 2)) {
                Map<String, Object> r = results.get(i++);
                assertEquals("serve", r.get("mode"));
                assertEquals(streams, r.get("streams"));
                assertEquals(adapters, r.get("adapters"));
                assertEquals(streams * 3, r.get("requests"));
                assertEquals((long) streams * 3 * 5, ((Number) r.get("tokens")).longValue(), r.toString());
                for (String field : List.of("requests_per_s", "tokens_per_s", "ttft_p50_ms", "decode_tokens_per_s",
                        "peak_rss_mib")) {
                    assertTrue(number(r, field) > 0, field + " in " + r);
                }
                // the tiny model's tokens can reach the client together (gaps below the 10 µs the result keeps)
                assertTrue(number(r, "itl_p50_ms") >= 0, r.toString());
                assertTrue(number(r, "stream_decode_tokens_per_s") >= 0, r.toString());
                // while every stream is in flight: within the run, so no longer than it
                assertTrue(number(r, "all_streams_tokens_per_s") >= 0, r.toString());
                assertTrue(number(r, "all_streams_window_s") <= number(r, "wall_s"), r.toString());
                assertTrue(number(r, "ttft_p50_ms") <= number(r, "ttft_p99_ms"), r.toString());
                assertTrue(number(r, "itl_p50_ms") <= number(r, "itl_p99_ms"), r.toString());
                // each stream's 3 requests of 5 tokens take a step per token at least, from the server's own metrics
                assertTrue(number(r, "steps") >= 15, r.toString());
                assertTrue(number(r, "rows_per_step") >= 1 && number(r, "step_mean_ms") > 0, r.toString());
                assertTrue(number(r, "batch_busy") > 0 && number(r, "batch_busy") <= 1, r.toString());
                // the JVM's compiling and collecting during the run: totals' differences, never negative
                assertTrue(number(r, "jit_ms") >= 0 && number(r, "gc_ms") >= 0, r.toString());
                // wall_s is kept to the millisecond, so at a few milliseconds it bounds the rate loosely
                double tokens = number(r, "tokens");
                double wall = number(r, "wall_s");
                double rate = number(r, "tokens_per_s");
                assertTrue(rate >= tokens / (wall + 0.0005) * 0.99 && rate <= tokens / Math.max(wall - 0.0005, 1e-9)
                        * 1.01, r.toString());
            }
        }
    }

    @Test
    void severalRoundsRunEveryConfigurationAgainThenReportTheirMedians() throws Exception {
        BenchShape tiny = new BenchShape(64, 2, 4, 2, 128, 512, 16, 1, 8, 5, 1, 1, DType.F32);
        List<Map<String, Object>> results = ServeBench.run(tiny, List.of(1, 2), List.of(1), 2, 2,
                BenchCommand::serve);
        // rounds 1 and 2 of (1, 1) and (2, 1), then the two medians, then the cold start
        assertEquals(7, results.size());
        assertEquals(List.of(1, 1, 2, 2), results.subList(0, 4).stream().map(r -> r.get("round")).toList());
        assertEquals(List.of(1, 2, 1, 2), results.subList(0, 4).stream().map(r -> r.get("streams")).toList());
        Map<String, Object> two = results.get(5);
        assertEquals("serve_median", two.get("mode"));
        assertEquals(2, two.get("streams"));
        assertEquals(2, two.get("rounds"));
        double[] rates = {number(results.get(1), "tokens_per_s"), number(results.get(3), "tokens_per_s")};
        assertEquals((rates[0] + rates[1]) / 2, number(two, "tokens_per_s"), 0.002, two.toString());
        double overOne = (rates[0] / number(results.get(0), "tokens_per_s")
                + rates[1] / number(results.get(2), "tokens_per_s")) / 2;
        assertEquals(overOne, number(two, "over_one_stream"), 0.002, two.toString());
        assertTrue(number(two, "of_decode") > 0, two.toString());
        assertEquals("serve_cold_start", results.getLast().get("mode"));
    }

    @Test
    void theLastResultComparesColdAndWarmAdapters() throws Exception {
        BenchShape tiny = new BenchShape(64, 2, 4, 2, 128, 512, 16, 1, 8, 5, 1, 1, DType.F32);
        Map<String, Object> r = ServeBench.run(tiny, List.of(1), List.of(3), 1, 1, BenchCommand::serve).getLast();
        assertEquals("serve_cold_start", r.get("mode"));
        assertEquals(3, r.get("adapters"));
        for (String field : List.of("ttft_cold_p50_ms", "ttft_warm_p50_ms", "adapter_load_mean_ms")) {
            assertTrue(number(r, field) > 0, field + " in " + r);
        }
    }

    private static double number(Map<String, Object> r, String field) {
        return ((Number) r.get(field)).doubleValue();
    }
}
