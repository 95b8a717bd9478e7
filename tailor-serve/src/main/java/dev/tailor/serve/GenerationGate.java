package dev.tailor.serve;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Runs one generation at a time, first come first served. The engine's kernels share one thread pool that runs one
 * parallel loop at a time (a second caller's loops run on that caller alone), so generations side by side would not
 * be faster on the whole and each would be slower; one at a time, each gets every core. Every request still has its
 * own KV cache and view of the model. Batching requests together (one base product for many adapters) replaces this.
 */
final class GenerationGate {
    private final ReentrantLock lock = new ReentrantLock(true);

    /** Runs {@code generation} when the requests before it are done. */
    <T> T run(Supplier<T> generation) {
        lock.lock();
        try {
            return generation.get();
        } finally {
            lock.unlock();
        }
    }
}
