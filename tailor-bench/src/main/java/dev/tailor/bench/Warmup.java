package dev.tailor.bench;

import java.util.function.DoubleSupplier;

/**
 * The unmeasured repetitions before a benchmark's measured ones. The peer (PyTorch) runs compiled kernels from its
 * first call, so its {@code --warmup} repetitions only settle caches; the JVM first interprets, then compiles in
 * tiers, and a Vector API kernel runs 5–10× slower until C2 has compiled it. So the warm-up here runs at least the
 * requested repetitions and then goes on while they still get faster: it stops once {@link #PATIENCE} repetitions
 * in a row have not beaten the best so far by more than {@link #SETTLED} (step times are noisy, and the compiler
 * finishes its last kernels a few repetitions after the first fast one), and after {@link #MAX_EXTRA} more than
 * requested at the latest. The count is
 * reported with the result, so a reader sees how much warm-up the measured numbers had. A requested warm-up of
 * zero runs none.
 */
final class Warmup {
    /** A repetition must beat the best so far by more than this fraction to count as an improvement. */
    static final double SETTLED = 0.03;
    /** Repetitions in a row without an improvement that mean the compiler has settled. */
    static final int PATIENCE = 4;
    /** Repetitions beyond the requested warm-up, at most. */
    static final int MAX_EXTRA = 20;

    private Warmup() {
    }

    /**
     * Runs {@code repetition} (which returns its seconds) at least {@code requested} times and until settled;
     * returns how many times it ran.
     */
    static int run(int requested, DoubleSupplier repetition) {
        if (requested == 0) {
            return 0;
        }
        double best = Double.POSITIVE_INFINITY;
        int runs = 0;
        int sinceImproved = 0;
        while (runs < requested + MAX_EXTRA) {
            double seconds = repetition.getAsDouble();
            runs++;
            if (seconds < best * (1 - SETTLED)) {
                sinceImproved = 0;
            } else {
                sinceImproved++;
            }
            best = Math.min(best, seconds);
            if (runs >= requested && sinceImproved >= PATIENCE) {
                break;
            }
        }
        return runs;
    }
}
