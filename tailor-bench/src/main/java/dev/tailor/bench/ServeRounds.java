package dev.tailor.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The serving goals' ratios over repeated rounds of {@code bench serve}: per configuration, the median over the
 * rounds of each ratio taken within one round, so that a slow phase of the machine, which slows every configuration
 * of its round, moves a ratio less than it moves the rates themselves.
 */
final class ServeRounds {
    private ServeRounds() {
    }

    /**
     * One {@code serve_median} result per (streams, adapters) configuration present in {@code results} (the
     * {@code serve} results of every round, each with its {@code round}). It holds the medians of its tokens/s,
     * inter-token p99 and tokens/s over its round's {@code bench decode} ({@code of_decode}); and, for a configuration
     * of several streams or adapters whose rounds also ran the one it compares with: tokens/s over one stream's with
     * the same adapters ({@code over_one_stream}), inter-token p99 over one stream's ({@code itl_p99_over_one_stream}),
     * and tokens/s over the same streams on one adapter ({@code of_one_adapter}).
     */
    static List<Map<String, Object>> medians(List<Map<String, Object>> results) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> first : results) {
            if ((int) first.get("round") != 1) {
                continue;
            }
            int streams = (int) first.get("streams");
            int adapters = (int) first.get("adapters");
            List<Map<String, Object>> mine = matching(results, streams, adapters);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mode", "serve_median");
            m.put("impl", "tailor");
            m.put("streams", streams);
            m.put("adapters", adapters);
            m.put("rounds", mine.size());
            m.put("tokens_per_s", round(median(mine, r -> number(r, "tokens_per_s"))));
            m.put("itl_p99_ms", round(median(mine, r -> number(r, "itl_p99_ms"))));
            m.put("of_decode", round(median(mine, r -> number(r, "tokens_per_s") / number(r, "decode_tokens_per_s"))));
            if (streams != 1) {
                List<Map<String, Object>> oneStream = matching(results, 1, adapters);
                ratio(m, "over_one_stream", mine, oneStream, "tokens_per_s");
                ratio(m, "itl_p99_over_one_stream", mine, oneStream, "itl_p99_ms");
            }
            if (adapters != 1) {
                ratio(m, "of_one_adapter", mine, matching(results, streams, 1), "tokens_per_s");
            }
            out.add(m);
        }
        return out;
    }

    /** {@code m[name]}: the median over rounds of {@code field} over the same round's reference (when there is one). */
    private static void ratio(Map<String, Object> m, String name, List<Map<String, Object>> mine,
                              List<Map<String, Object>> reference, String field) {
        if (reference.size() != mine.size()) {
            return;
        }
        double[] ratios = new double[mine.size()];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = number(mine.get(i), field) / number(reference.get(i), field);
        }
        m.put(name, round(median(ratios)));
    }

    /** The results of one configuration, in round order. */
    private static List<Map<String, Object>> matching(List<Map<String, Object>> results, int streams, int adapters) {
        return results.stream()
                .filter(r -> (int) r.get("streams") == streams && (int) r.get("adapters") == adapters)
                .sorted((a, b) -> Integer.compare((int) a.get("round"), (int) b.get("round")))
                .toList();
    }

    private static double median(List<Map<String, Object>> results, ToDoubleFunction<Map<String, Object>> value) {
        return median(results.stream().mapToDouble(value).toArray());
    }

    /** The median (the mean of the middle two for an even count). */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static double number(Map<String, Object> r, String field) {
        return ((Number) r.get(field)).doubleValue();
    }

    private static double round(double v) {
        return InferenceBench.round(v, 3);
    }
}
