package dev.tailor.serve;

import java.util.Map;
import java.util.SortedMap;

/**
 * How a registered name's plain requests are split between its versions.
 *
 * @param revision counts every change of the split (0 before the first): the {@code expected_version} of a change
 * @param versions each version and its weight (≥ 0, summing to more than 0), in version order; empty for no split,
 *                 when {@code prod} serves the name
 */
public record TrafficSplit(int revision, SortedMap<Integer, Double> versions) {

    /** Whether there is a split to follow. */
    boolean active() {
        return !versions.isEmpty();
    }

    /** The version at {@code point} in [0, 1) of the weights laid end to end in version order. */
    int pick(double point) {
        double total = versions.values().stream().mapToDouble(Double::doubleValue).sum();
        double at = point * total;
        int last = versions.lastKey();
        for (Map.Entry<Integer, Double> e : versions.entrySet()) {
            if (e.getValue() > 0) {
                last = e.getKey();
                if (at < e.getValue()) {
                    return e.getKey();
                }
                at -= e.getValue();
            }
        }
        return last;
    }
}
