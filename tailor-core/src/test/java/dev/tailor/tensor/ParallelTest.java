package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** {@link Parallel}: every index runs once, errors surface, nested loops complete. */
class ParallelTest {

    @Test
    void everyIndexRunsExactlyOnce() {
        for (int n : new int[] {0, 1, 2, 3, 17, 1000}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
            for (int round = 0; round < 50; round++) {
                Parallel.parallelFor(n, hits::incrementAndGet);
            }
            for (int i = 0; i < n; i++) {
                assertEquals(50, hits.get(i), "index " + i + " of " + n);
            }
        }
    }

    @Test
    void guidedTasksCoverTheUnitsInShrinkingSizesWithinTheLimit() {
        for (int units : new int[] {1, 2, 6, 18, 48, 1536}) {
            for (int max : new int[] {1, 3, 14, 1000}) {
                int[] b = Parallel.guidedBounds(units, max);
                assertEquals(0, b[0]);
                assertEquals(units, b[b.length - 1], units + " units");
                for (int t = 0; t + 1 < b.length; t++) {
                    int size = b[t + 1] - b[t];
                    assertTrue(size >= 1 && size <= max, "task " + t + " of " + units + " has " + size);
                    if (t > 0) {
                        assertTrue(size <= b[t] - b[t - 1], "task " + t + " of " + units + " grew");
                    }
                }
                if (units >= 2 * Parallel.threads() && Parallel.threads() > 1) {
                    assertEquals(1, b[b.length - 1] - b[b.length - 2], "the last task of " + units + " is one unit");
                }
            }
        }
    }

    @Test
    void alignedChunksCoverWithoutOverlapAndKeepInnerBoundariesAligned() {
        for (int len : new int[] {0, 5, 16, 17, 100, 4099}) {
            int[] owner = new int[len + 3];
            java.util.List<int[]> ranges = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            Parallel.parallelForChunks(3, len, 8, (from, to) -> {
                ranges.add(new int[] {from, to});
                for (int i = from; i < to; i++) {
                    owner[i]++;
                }
            });
            for (int i = 0; i < owner.length; i++) {
                assertEquals(i < 3 ? 0 : 1, owner[i], "element " + i + " of length " + len);
            }
            for (int[] r : ranges) {
                assertTrue(r[1] == 3 + len || (r[1] - 3) % 8 == 0, "inner boundary " + r[1] + " is not aligned");
            }
        }
    }

    @Test
    void rangesCoverWithoutOverlap() {
        int[] owner = new int[103];
        Parallel.parallelForRange(owner.length, (from, to) -> {
            for (int i = from; i < to; i++) {
                owner[i]++;
            }
        });
        int[] once = new int[103];
        java.util.Arrays.fill(once, 1);
        assertArrayEquals(once, owner);
    }

    @Test
    void taskExceptionIsRethrownToTheCaller() {
        IllegalStateException boom = new IllegalStateException("task 7 failed");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.parallelFor(20, i -> {
            if (i == 7) {
                throw boom;
            }
        }));
        assertSame(boom, thrown);
        AtomicIntegerArray hits = new AtomicIntegerArray(4);
        Parallel.parallelFor(4, hits::incrementAndGet);
        assertEquals(1, hits.get(3), "the pool still works after a failure");
    }

    @Test
    void nestedLoopsRunOnTheirCaller() {
        AtomicIntegerArray hits = new AtomicIntegerArray(64);
        Parallel.parallelFor(8, i -> Parallel.parallelFor(8, j -> hits.incrementAndGet(i * 8 + j)));
        for (int i = 0; i < 64; i++) {
            assertEquals(1, hits.get(i));
        }
        assertTrue(Parallel.threads() >= 1);
    }

    @Test
    void everyTaskRunsInItsCallersBatchInvarianceMode() {
        // each task sleeps a little, so that the pool's threads take some of them, not only the caller
        int n = 64;
        AtomicIntegerArray inMode = new AtomicIntegerArray(n);
        MatMul.batchInvariant(() -> {
            Parallel.parallelFor(n, i -> {
                inMode.set(i, MatMul.isBatchInvariant() ? 1 : 0);
                LockSupport.parkNanos(200_000);
            });
            return null;
        });
        AtomicIntegerArray outside = new AtomicIntegerArray(n);
        Parallel.parallelFor(n, i -> {
            outside.set(i, MatMul.isBatchInvariant() ? 1 : 0);
            LockSupport.parkNanos(200_000);
        });
        for (int i = 0; i < n; i++) {
            assertEquals(1, inMode.get(i), "task " + i + " inside batchInvariant");
            assertEquals(0, outside.get(i), "task " + i + " outside");
        }
    }
}
