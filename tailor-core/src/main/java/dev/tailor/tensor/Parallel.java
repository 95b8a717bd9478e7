package dev.tailor.tensor;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A small fixed pool of daemon platform threads for the kernels' parallel loops.
 *
 * <p>The pool has {@link #threads()} lanes: the calling thread plus {@code threads() - 1} workers, sized by
 * the {@code tailor.threads} system property or else {@link Runtime#availableProcessors()}. A loop hands out
 * task indices through one atomic counter; idle workers spin briefly before parking, so the ~60 loops per
 * decoded token pay a wake-up of microseconds, not a ForkJoin submission. Only one loop runs on the pool at a
 * time: a loop started while another runs (from another thread, or nested inside a task) runs on its caller
 * alone, which is always correct and never deadlocks. Tasks run in their caller's
 * {@linkplain MatMul#batchInvariant batch-invariant} mode.
 */
public final class Parallel {
    /** How long an idle worker spins before parking, in nanoseconds. */
    private static final long SPIN_NANOS = 200_000;
    private static final int THREADS = configuredThreads();
    /** Ranges per thread of {@link #parallelForRange} and {@link #parallelForChunks}. */
    static final int RANGES_PER_THREAD = 4;
    /** Held while a loop runs on the pool; not reentrant, so a nested loop runs on its caller. */
    private static final AtomicBoolean BUSY = new AtomicBoolean();
    private static final Worker[] WORKERS = startWorkers();

    private Parallel() {
    }

    /** Number of threads a parallel loop uses, the caller included. */
    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, n)}, spread over the pool; returns when all
     * have run. Indices are handed out one at a time in increasing order, so make each a sizeable chunk of work.
     * The first exception thrown by a task is rethrown here after all tasks finish.
     */
    public static void parallelFor(int n, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        if (n == 1 || THREADS == 1 || !BUSY.compareAndSet(false, true)) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        try {
            Job job = new Job(n, body, Thread.currentThread(), MatMul.isBatchInvariant());
            for (int w = 0; w < Math.min(n, THREADS) - 1; w++) {
                WORKERS[w].wake(job);
            }
            job.work();
            job.close();
            job.rethrow();
        } finally {
            BUSY.set(false);
        }
    }

    /**
     * Splits {@code [0, n)} into at most {@link #RANGES_PER_THREAD}{@code ·threads()} contiguous ranges of near-equal
     * size and runs {@code body.run(from, to)} on each in parallel (with one thread, as one range). Several ranges
     * per thread, handed out as the threads come free, so that a thread slower at the moment holds up the loop by
     * one small range, not by half of it.
     */
    public static void parallelForRange(int n, RangeBody body) {
        int parts = Math.min(n, maxRanges());
        parallelFor(parts, p -> body.run((int) ((long) n * p / parts), (int) ((long) n * (p + 1) / parts)));
    }

    /**
     * Splits {@code [off, off + len)} into contiguous ranges as {@link #parallelForRange} does, their inner
     * boundaries at {@code off} plus multiples of {@code align}, and runs {@code body.run(from, to)} on each. With
     * {@code align} the vector length, a vectorized element-wise kernel gives bit for bit what one call over the
     * whole range gives: only the last range has a scalar tail.
     */
    public static void parallelForChunks(int off, int len, int align, RangeBody body) {
        int units = len / align;
        int parts = Math.max(1, Math.min(maxRanges(), units));
        parallelFor(parts, p -> body.run(off + (int) ((long) units * p / parts) * align,
                p == parts - 1 ? off + len : off + (int) ((long) units * (p + 1) / parts) * align));
    }

    private static int maxRanges() {
        return THREADS == 1 ? 1 : RANGES_PER_THREAD * THREADS;
    }

    /**
     * Cuts {@code units} (panels, blocks of rows) into tasks of decreasing size for {@link #parallelFor}, as
     * OpenMP's guided schedule does: each task takes a {@code 1 / (2·threads)} share of what is left, at most
     * {@code maxPerTask} and at least one unit. The large tasks come first and the last ones are single units, so
     * when the threads run at different speeds (as they do on a shared machine) the one that finishes early is
     * left idle for at most about one unit, not for one of equal-sized large tasks.
     *
     * @return task boundaries {@code b}: task t covers units {@code [b[t], b[t + 1])}; {@code b[0] = 0}, the last is
     *         {@code units}
     */
    public static int[] guidedBounds(int units, int maxPerTask) {
        int[] bounds = new int[units + 1];
        int tasks = 0;
        for (int u = 0; u < units; ) {
            int size = Math.max(1, Math.min(maxPerTask, (units - u + 2 * THREADS - 1) / (2 * THREADS)));
            u += size;
            bounds[++tasks] = u;
        }
        return Arrays.copyOf(bounds, tasks + 1);
    }

    /** The body of a ranged loop: processes indices {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        /** Processes indices {@code [from, to)}. */
        void run(int from, int to);
    }

    private static int configuredThreads() {
        String prop = System.getProperty("tailor.threads");
        if (prop == null || prop.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int t = Integer.parseInt(prop.strip());
            if (t >= 1) {
                return t;
            }
        } catch (NumberFormatException e) {
            // reported below with the expected form
        }
        throw new IllegalArgumentException("system property tailor.threads must be a positive integer, got \""
                + prop + "\"");
    }

    private static Worker[] startWorkers() {
        Worker[] workers = new Worker[THREADS - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i);
            workers[i].thread.start();
        }
        return workers;
    }

    /**
     * One parallel loop in flight. Workers join it only while it is open; the caller, once out of tasks,
     * waits for the workers that joined and then closes it, so a worker the OS has not yet scheduled never
     * delays the caller (it finds the loop closed and goes back to waiting).
     */
    private static final class Job {
        private static final int CLOSED = Integer.MIN_VALUE;
        final int n;
        final IntConsumer body;
        final Thread caller;
        /** Whether the caller's products are batch invariant; the workers run their share in that mode too. */
        final boolean batchInvariant;
        final AtomicInteger next = new AtomicInteger();
        /** Workers that joined and are still running, or {@link #CLOSED}. */
        final AtomicInteger joined = new AtomicInteger();
        volatile Throwable error;

        Job(int n, IntConsumer body, Thread caller, boolean batchInvariant) {
            this.n = n;
            this.body = body;
            this.caller = caller;
            this.batchInvariant = batchInvariant;
        }

        void work() {
            try {
                for (int i = next.getAndIncrement(); i < n && error == null; i = next.getAndIncrement()) {
                    body.accept(i);
                }
            } catch (Throwable t) {
                if (error == null) {
                    error = t;
                }
            }
        }

        boolean tryJoin() {
            for (int j = joined.get(); j >= 0; j = joined.get()) {
                if (joined.compareAndSet(j, j + 1)) {
                    return true;
                }
            }
            return false;
        }

        void leave() {
            if (joined.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }

        void close() {
            long start = System.nanoTime();
            while (!joined.compareAndSet(0, CLOSED)) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
        }

        void rethrow() {
            Throwable t = error;
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException("parallel task failed", t);
            }
        }
    }

    /** A pool thread: waits for a job, helps run it if still open, reports back. */
    private static final class Worker implements Runnable {
        final Thread thread;
        private final AtomicReference<Job> assigned = new AtomicReference<>();

        Worker(int index) {
            thread = Thread.ofPlatform().daemon().name("tailor-kernel-" + index).unstarted(this);
        }

        void wake(Job job) {
            assigned.set(job);
            LockSupport.unpark(thread);
        }

        @Override
        public void run() {
            while (true) {
                Job job = awaitJob();
                if (job.tryJoin()) {
                    MatMul.runInMode(job.batchInvariant, job::work);
                    job.leave();
                }
            }
        }

        private Job awaitJob() {
            long start = System.nanoTime();
            while (true) {
                Job job = assigned.getAndSet(null);
                if (job != null) {
                    return job;
                }
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                    start = System.nanoTime();
                }
            }
        }
    }
}
