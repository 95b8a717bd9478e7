package dev.tailor.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ServeRounds}' medians on made-up results of three rounds, the second one on a slow machine. */
class ServeRoundsTest {
    /** Round r's result of a configuration. */
    private static Map<String, Object> result(int round, int streams, int adapters, double tokensPerS,
                                              double itlP99Ms, double decodeTokensPerS) {
        return Map.of("mode", "serve", "round", round, "streams", streams, "adapters", adapters,
                "tokens_per_s", tokensPerS, "itl_p99_ms", itlP99Ms, "decode_tokens_per_s", decodeTokensPerS);
    }

    private static List<Map<String, Object>> threeRounds() {
        List<Map<String, Object>> results = new ArrayList<>();
        double[] decode = {110, 60, 100};
        // one stream, 16 streams on 1 adapter, 16 streams over 16 adapters
        double[][] tokens = {{100, 50, 90}, {500, 300, 400}, {480, 240, 420}};
        double[][] itl = {{20, 40, 25}, {60, 100, 80}, {62, 130, 70}};
        int[][] config = {{1, 1}, {16, 1}, {16, 16}};
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 3; c++) {
                results.add(result(r + 1, config[c][0], config[c][1], tokens[c][r], itl[c][r], decode[r]));
            }
        }
        return results;
    }

    @Test
    void eachRatioIsTakenWithinARoundThenTheMedianOverRounds() {
        List<Map<String, Object>> m = ServeRounds.medians(threeRounds());
        assertEquals(List.of(1, 16, 16), m.stream().map(r -> r.get("streams")).toList());
        assertEquals(List.of(1, 1, 16), m.stream().map(r -> r.get("adapters")).toList());
        Map<String, Object> one = m.get(0);
        assertEquals("serve_median", one.get("mode"));
        assertEquals(3, one.get("rounds"));
        assertEquals(90.0, one.get("tokens_per_s"));
        // 100/110, 50/60, 90/100: the middle one is 0.9 (0.909, 0.833, 0.9)
        assertEquals(0.9, one.get("of_decode"));
        assertFalse(one.containsKey("over_one_stream"), one.toString());
        assertFalse(one.containsKey("of_one_adapter"), one.toString());
        Map<String, Object> sixteen = m.get(1);
        assertEquals(400.0, sixteen.get("tokens_per_s"));
        assertEquals(80.0, sixteen.get("itl_p99_ms"));
        // 500/100, 300/50, 400/90 = 5, 6, 4.444: median 5, where the medians' ratio would say 400/90 = 4.44
        assertEquals(5.0, sixteen.get("over_one_stream"));
        // 60/20, 100/40, 80/25 = 3, 2.5, 3.2
        assertEquals(3.0, sixteen.get("itl_p99_over_one_stream"));
        assertFalse(sixteen.containsKey("of_one_adapter"), sixteen.toString());
        Map<String, Object> mixed = m.get(2);
        // 480/500, 240/300, 420/400 = 0.96, 0.8, 1.05
        assertEquals(0.96, mixed.get("of_one_adapter"));
        // its one-stream reference is one stream over 16 adapters, which these rounds did not run
        assertFalse(mixed.containsKey("over_one_stream"), mixed.toString());
    }

    @Test
    void aConfigurationWhoseReferenceDidNotRunGetsNoRatio() {
        List<Map<String, Object>> results = threeRounds().stream().filter(r -> (int) r.get("streams") == 16).toList();
        for (Map<String, Object> m : ServeRounds.medians(results)) {
            assertFalse(m.containsKey("over_one_stream"), m.toString());
            assertFalse(m.containsKey("itl_p99_over_one_stream"), m.toString());
        }
        assertEquals(0.96, ServeRounds.medians(results).get(1).get("of_one_adapter"));
    }

    @Test
    void theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.5, ServeRounds.median(new double[] {4, 1, 3, 2}));
        assertEquals(3.0, ServeRounds.median(new double[] {5, 3, 1}));
    }
}
