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
                new ServeBench.Timing(500 * MS, new long[] {10 * MS, 10 * MS, 20 * MS}, 4, 0),
                new ServeBench.Timing(900 * MS, new long[] {10 * MS}, 2, 0));
        assertEquals(80.0, ServeBench.streamDecodeTokensPerS(timings), 1e-9);
    }

    @Test
    void theAllStreamsRateCountsOnlyTheChunksWhileEveryStreamIsInFlight() {
        // stream A: chunks at 0, 10, 20 ms, then a second request at 100, 110; stream B (started late): 30, 40, 60 ms
        List<ServeBench.Timing> a = List.of(new ServeBench.Timing(5 * MS, new long[] {10 * MS, 10 * MS}, 3, 0),
                new ServeBench.Timing(5 * MS, new long[] {10 * MS}, 2, 100 * MS));
        List<ServeBench.Timing> b = List.of(new ServeBench.Timing(25 * MS, new long[] {10 * MS, 20 * MS}, 3, 30 * MS));
        double[] steady = ServeBench.allStreamsTokensPerS(List.of(a, b));
        // window (30, 60] ms: B's chunks at 40 and 60; A has none there
        assertEquals(0.030, steady[1], 1e-12);
        assertEquals(2 / 0.030, steady[0], 1e-9);
    }

    @Test
    void streamsThatNeverOverlapGiveNoAllStreamsRate() {
        List<ServeBench.Timing> a = List.of(new ServeBench.Timing(MS, new long[] {10 * MS}, 2, 0));
        List<ServeBench.Timing> b = List.of(new ServeBench.Timing(MS, new long[] {10 * MS}, 2, 50 * MS));
        assertEquals(0.0, ServeBench.allStreamsTokensPerS(List.of(a, b))[0]);
    }

    @Test
    void tokensThatArriveTogetherGiveNoRate() {
        assertEquals(0.0, ServeBench.streamDecodeTokensPerS(List.of(new ServeBench.Timing(MS, new long[] {0}, 2, 0))));
    }
}
