package dev.tailor.bench;

import org.junit.jupiter.api.Test;

import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The warm-up runs at least what is asked, goes on while repetitions still get faster or the JIT compiles during them,
 * and is bounded.
 */
class WarmupTest {

    @Test
    void zeroRequestedRunsNone() {
        assertEquals(0, Warmup.run(0, times(1, 1)));
    }

    @Test
    void stopsAfterFourRepetitionsInARowWithoutImprovement() {
        // improvements at 1, 2, 4 (4.5 < 5·0.97) and 7; 4.9 at 3 and 4.4 at 5 do not count; then four without
        assertEquals(11, Warmup.run(2, times(10, 5, 4.9, 4.5, 4.4, 4.6, 3, 3, 2.95, 3.1, 3, 1, 1)));
    }

    @Test
    void runsTheRequestedCountWhenAlreadySettled() {
        assertEquals(5, Warmup.run(1, times(3, 3, 3, 3, 3, 3)));
        assertEquals(8, Warmup.run(8, times(3, 3, 3, 3, 3, 3, 3, 3, 3)));
    }

    @Test
    void aRepetitionSpentPartlyCompilingDoesNotCountAsSettled() {
        // flat times; the JIT compiles 10 ms during each of the first five 100 ms repetitions (10% > 5%), then 4 ms
        // (the total before and after each repetition)
        long[] compiledMillis = {0, 10, 10, 20, 20, 30, 30, 40, 40, 50, 50, 54, 54, 58, 58, 62, 62, 66, 66, 70};
        int[] call = {0};
        LongSupplier jit = () -> compiledMillis[call[0]++];
        assertEquals(9, Warmup.run(2, times(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1), jit));
    }

    @Test
    void isBoundedWhenItNeverSettles() {
        double[] halving = new double[Warmup.MAX_EXTRA + 10];
        for (int i = 0; i < halving.length; i++) {
            halving[i] = Math.pow(0.5, i);
        }
        assertEquals(3 + Warmup.MAX_EXTRA, Warmup.run(3, times(halving)));
    }

    private static DoubleSupplier times(double... seconds) {
        int[] next = {0};
        return () -> seconds[next[0]++];
    }
}
