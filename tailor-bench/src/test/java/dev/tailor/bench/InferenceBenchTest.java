package dev.tailor.bench;

import dev.tailor.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decode benchmark on a tiny random model: warmed up, then the medians of the measured repetitions. */
class InferenceBenchTest {

    @Test
    void decodeWarmsUpThenReportsItsMeasuredRepetitions() {
        BenchShape shape = new BenchShape(32, 1, 2, 1, 64, 64, 16, 1, 4, 5, 3, 2, DType.F32);
        Map<String, Object> r = InferenceBench.decode(shape);
        int warmup = ((Number) r.get("warmup_steps")).intValue();
        assertTrue(warmup >= 2 && warmup <= 2 + Warmup.MAX_EXTRA, "warm-up repetitions: " + warmup);
        assertEquals(3, r.get("steps"));
        assertEquals(5, r.get("new_tokens"));
        double tokensPerS = ((Number) r.get("decode_tokens_per_s")).doubleValue();
        double msPerToken = ((Number) r.get("ms_per_token")).doubleValue();
        assertTrue(tokensPerS > 0, "tokens/s: " + tokensPerS);
        // both from the same median repetition
        assertEquals(1000 / tokensPerS, msPerToken, 0.01 * msPerToken + 0.001);
    }
}
