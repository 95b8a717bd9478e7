package dev.tailor.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tailor.tensor.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Batched decoding on a tiny random model: each configuration warmed up, then the median of its repetitions. */
class BatchDecodeBenchTest {
    @Test
    void everyConfigurationWarmsUpThenReportsItsMeasuredRepetitions() {
        BenchShape shape = new BenchShape(32, 1, 2, 1, 64, 64, 16, 1, 4, 5, 3, 2, DType.F32);
        List<Map<String, Object>> results = BatchDecodeBench.run(shape, List.of(1, 3), List.of(0, 2));
        assertEquals(4, results.size());
        int i = 0;
        for (int streams : List.of(1, 3)) {
            for (int adapters : List.of(0, 2)) {
                Map<String, Object> r = results.get(i++);
                assertEquals(streams, r.get("streams"));
                assertEquals(adapters, r.get("adapters"));
                assertEquals(adapters == 0 ? 0 : 8, r.get("lora_r"));
                int warmup = ((Number) r.get("warmup_steps")).intValue();
                assertTrue(warmup >= 2 && warmup <= 2 + Warmup.MAX_EXTRA, "warm-up repetitions: " + warmup);
                assertEquals(3, r.get("steps"));
                double tokensPerS = ((Number) r.get("tokens_per_s")).doubleValue();
                double msPerStep = ((Number) r.get("ms_per_step")).doubleValue();
                // both from the same median repetition: streams tokens a step
                assertEquals(streams * 1000 / tokensPerS, msPerStep, 0.01 * msPerStep + 0.001);
            }
        }
    }
}
