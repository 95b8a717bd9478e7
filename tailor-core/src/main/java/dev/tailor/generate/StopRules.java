package dev.tailor.generate;

import java.util.List;
import java.util.Set;

/**
 * When a generation stops before its token budget, as vLLM's sampling parameters say it.
 *
 * @param strings   stop strings: the text ends before the first one (not emitted)
 * @param tokenIds  ids that end the generation like an end-of-sequence token (not emitted), besides the model's own
 * @param ignoreEos whether the model's end-of-sequence tokens are generated like any other (for benchmarks)
 * @param minTokens tokens generated before an end-of-sequence token or one of {@code tokenIds} may be: until then
 *                  their logits are -infinity
 */
record StopRules(List<String> strings, Set<Integer> tokenIds, boolean ignoreEos, int minTokens) {
    /** Checks the rules and copies the collections. */
    StopRules {
        strings = List.copyOf(strings);
        tokenIds = Set.copyOf(tokenIds);
        if (minTokens < 0) {
            throw new IllegalArgumentException("minTokens must be >= 0, got " + minTokens);
        }
    }
}
