package dev.tailor.serve;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Runs one generation at a time, first come first served. The engine's kernels share one thread pool that runs one
 * parallel loop at a time (a second caller's loops run on that caller alone), so generations side by side would not
 * be faster on the whole and each would be slower; one at a time, each gets every core. Every request still has its
 * own KV cache and view of the model. Batching requests together (one base product for many adapters) replaces this.
 * <p>
 * At most {@code maxQueue} requests wait; one more is refused at once ({@link #queue()}), with a {@code Retry-After}
 * guessed from the last generation's length.
 */
final class GenerationGate {
    private final ReentrantLock lock = new ReentrantLock(true);
    private final AtomicInteger waiting = new AtomicInteger();
    private final int maxQueue;
    private volatile long lastRunNanos;

    GenerationGate(int maxQueue) {
        this.maxQueue = maxQueue;
    }

    /** How many requests wait for their turn now. */
    int waiting() {
        return waiting.get();
    }

    /**
     * Takes a place in the queue.
     *
     * @throws ApiException 429 when {@code maxQueue} requests already wait
     */
    Place queue() {
        int before = waiting.getAndIncrement();
        if (before >= maxQueue) {
            waiting.decrementAndGet();
            long guess = (before + 1) * lastRunNanos;
            throw ApiException.queueFull(before, (int) Math.max(1, TimeUnit.NANOSECONDS.toSeconds(guess) + 1));
        }
        return new Place();
    }

    /** A place in the queue; closing it gives the place up if it was never used. */
    final class Place implements AutoCloseable {
        private boolean left;

        /**
         * Runs {@code generation} when the requests before it are done, waiting until {@code deadline}
         * ({@link System#nanoTime()}) at most.
         *
         * @throws ApiException 504 when the turn did not come by the deadline
         */
        <T> T run(long deadline, Duration timeout, Supplier<T> generation) {
            boolean turn;
            try {
                turn = lock.tryLock(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a generation", e);
            } finally {
                close();
            }
            if (!turn) {
                throw ApiException.timedOut("waited for a generation", timeout);
            }
            long start = System.nanoTime();
            try {
                return generation.get();
            } finally {
                lastRunNanos = System.nanoTime() - start;
                lock.unlock();
            }
        }

        @Override
        public void close() {
            if (!left) {
                left = true;
                waiting.decrementAndGet();
            }
        }
    }
}
