package dev.tailor.generate;

import java.util.List;

/**
 * Watches the decoded text of a generation for stop strings. Fed each new piece of text, it returns the text that
 * is safe to show: everything before the first stop string once one has appeared, and otherwise everything except
 * the longest tail that could still be the beginning of a stop string. So a stop string split across tokens
 * ({@code "</"} then {@code "s>"}) never reaches the output, and text that only looked like one is released as
 * soon as it stops matching (or by {@link #flush()} at the end).
 */
public final class StopStrings {

    /**
     * The outcome of feeding one piece of text.
     *
     * @param emit    text to show now (possibly empty)
     * @param stopped whether a stop string has appeared; generation should end
     * @param matched the stop string that appeared, or null
     */
    public record Result(String emit, boolean stopped, String matched) {
    }

    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    /** A matcher for these stop strings (none empty); with none it passes all text through. */
    public StopStrings(List<String> stops) {
        for (String stop : stops) {
            if (stop == null || stop.isEmpty()) {
                throw new IllegalArgumentException("stop strings must be non-empty, got " + stops);
            }
        }
        this.stops = List.copyOf(stops);
    }

    /** Adds newly decoded text; after a stop it must not be called again. */
    public Result feed(String text) {
        if (stopped) {
            throw new IllegalStateException("a stop string was already matched; generation has ended");
        }
        held.append(text);
        int earliest = -1;
        String matched = null;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
                matched = stop;
            }
        }
        if (matched != null) {
            stopped = true;
            String emit = held.substring(0, earliest);
            held.setLength(0);
            return new Result(emit, true, matched);
        }
        int keep = longestPartialMatch();
        String emit = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return new Result(emit, false, null);
    }

    /** At the end of generation: the text held back because it might have begun a stop string. */
    public String flush() {
        String rest = held.toString();
        held.setLength(0);
        return rest;
    }

    /** Whether a stop string has appeared. */
    public boolean stopped() {
        return stopped;
    }

    /** The length of the longest tail of the held text that is a proper prefix of some stop string. */
    private int longestPartialMatch() {
        int best = 0;
        for (String stop : stops) {
            for (int length = Math.min(stop.length() - 1, held.length()); length > best; length--) {
                if (held.substring(held.length() - length).equals(stop.substring(0, length))) {
                    best = length;
                    break;
                }
            }
        }
        return best;
    }
}
