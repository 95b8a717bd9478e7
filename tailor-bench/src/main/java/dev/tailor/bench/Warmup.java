package dev.tailor.bench;

import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * The unmeasured repetitions before a benchmark's measured ones. The peer (PyTorch) runs compiled kernels from its
 * first call, so its {@code --warmup} repetitions only settle caches; the JVM first interprets, then compiles in
 * tiers, and a Vector API kernel runs 5–10× slower until C2 has compiled it. So the warm-up here runs at least the
 * requested repetitions and then goes on while they are not settled: it stops once {@link #PATIENCE} repetitions in a
 * row have neither beaten the best so far by more than {@link #SETTLED} (step times are noisy, and the compiler
 * finishes its last kernels a few repetitions after the first fast one) nor spent more than {@link #QUIET} of their
 * time compiling (the JIT's threads share the two cores with the kernels': a large method compiled late slows a
 * repetition by up to half without its predecessors being any slower), and after {@link #MAX_EXTRA} more than
 * requested at the latest. The count is reported with the result, so a reader sees how much warm-up the measured
 * numbers had. A requested warm-up of zero runs none.
 */
final class Warmup {
    /** A repetition must beat the best so far by more than this fraction to count as an improvement. */
    static final double SETTLED = 0.03;
    /** Most of a repetition's time the JIT compilers may spend (their threads' total) for it to count as settled. */
    static final double QUIET = 0.05;
    /** Repetitions in a row without an improvement or compiling that mean the compiler has settled. */
    static final int PATIENCE = 4;
    /** Repetitions beyond the requested warm-up, at most. */
    static final int MAX_EXTRA = 30;

    private Warmup() {
    }

    /**
     * Runs {@code repetition} (which returns its seconds) at least {@code requested} times and until settled;
     * returns how many times it ran.
     */
    static int run(int requested, DoubleSupplier repetition) {
        return run(requested, repetition, JvmTimes::totalJitMillis);
    }

    /** {@link #run(int, DoubleSupplier)}, the JIT's total compilation time so far (ms) read from {@code jitMillis}. */
    static int run(int requested, DoubleSupplier repetition, LongSupplier jitMillis) {
        if (requested == 0) {
            return 0;
        }
        double best = Double.POSITIVE_INFINITY;
        int runs = 0;
        int settled = 0;
        while (runs < requested + MAX_EXTRA) {
            long compiledBefore = jitMillis.getAsLong();
            double seconds = repetition.getAsDouble();
            double compiling = (jitMillis.getAsLong() - compiledBefore) / 1e3;
            runs++;
            boolean improved = seconds < best * (1 - SETTLED);
            settled = improved || compiling > QUIET * seconds ? 0 : settled + 1;
            best = Math.min(best, seconds);
            if (runs >= requested && settled >= PATIENCE) {
                break;
            }
        }
        return runs;
    }
}
