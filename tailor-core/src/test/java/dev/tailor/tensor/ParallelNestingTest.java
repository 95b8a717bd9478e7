package dev.tailor.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A parallel loop started inside a task of another runs inline instead of waiting on the busy pool. */
class ParallelNestingTest {

    @Test
    @Timeout(10)
    void nestedLoopsRunEveryIndexOnceWithoutDeadlock() {
        AtomicInteger count = new AtomicInteger();
        for (int rep = 0; rep < 50; rep++) {
            Parallel.parallelFor(8, outer -> Parallel.parallelFor(16, inner -> count.incrementAndGet()));
        }
        assertEquals(50 * 8 * 16, count.get());
    }
}
