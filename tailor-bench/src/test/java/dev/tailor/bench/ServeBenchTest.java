package dev.tailor.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ServeBench}'s arithmetic on timings (the whole run is {@code BenchServeTest}, in the CLI's tests). */
class ServeBenchTest {
    private static final long MS = 1_000_000;

    @Test
    void aStreamsDecodingRateLeavesOutThePromptAndTheFirstToken() {
        // 3 tokens after the first in 40 ms, and 1 in 10 ms: 4 tokens in 50 ms, whatever the first tokens took
        List<ServeBench.Timing> timings = List.of(
                new ServeBench.Timing(500 * MS, new long[] {10 * MS, 10 * MS, 20 * MS}, 4),
                new ServeBench.Timing(900 * MS, new long[] {10 * MS}, 2));
        assertEquals(80.0, ServeBench.streamDecodeTokensPerS(timings), 1e-9);
    }

    @Test
    void tokensThatArriveTogetherGiveNoRate() {
        assertEquals(0.0, ServeBench.streamDecodeTokensPerS(List.of(new ServeBench.Timing(MS, new long[] {0}, 2))));
    }
}
