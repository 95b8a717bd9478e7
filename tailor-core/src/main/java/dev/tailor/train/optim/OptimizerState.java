package dev.tailor.train.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What an optimizer needs to resume exactly: its kind, the number of updates applied, and per parameter name a
 * set of named buffers ("slots", as torch's state keys: {@code exp_avg}, {@code exp_avg_sq},
 * {@code momentum_buffer}), each as long as the parameter.
 *
 * @param kind    the optimizer's {@link Optimizer#kind()}
 * @param step    updates applied so far
 * @param buffers parameter name → slot name → values
 */
public record OptimizerState(String kind, long step, Map<String, Map<String, float[]>> buffers) {

    /** Validates and freezes the maps (the arrays are shared, not copied). */
    public OptimizerState {
        if (step < 0) {
            throw new IllegalArgumentException("optimizer step must be >= 0, got " + step);
        }
        Map<String, Map<String, float[]>> copy = new LinkedHashMap<>();
        buffers.forEach((param, slots) -> {
            for (String slot : slots.keySet()) {
                if (slot.isEmpty() || slot.contains(".")) {
                    throw new IllegalArgumentException(param + ": slot name \"" + slot
                            + "\" must be non-empty and contain no '.'");
                }
            }
            copy.put(param, Map.copyOf(slots));
        });
        buffers = Collections.unmodifiableMap(copy);
    }

    /**
     * The buffer {@code slot} of {@code param}.
     *
     * @throws IllegalArgumentException naming the parameter and slot when absent
     */
    public float[] require(String param, String slot) {
        Map<String, float[]> slots = buffers.get(param);
        float[] values = slots == null ? null : slots.get(slot);
        if (values == null) {
            throw new IllegalArgumentException(kind + " state has no " + slot + " for parameter " + param);
        }
        return values;
    }
}
