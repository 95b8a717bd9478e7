package dev.tailor.serve.jobs;

import dev.tailor.serve.ServedModels;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Drains the fine-tuning queue: claims a job on its base ({@link JobStore#claim}), runs it ({@link JobRun}) while a
 * heartbeat renews the claim's lease every third of it, and claims the next; with nothing queued it waits
 * {@link Options#poll()} and looks again. Workers on several machines share one database and one state directory (the
 * files, the adapter store and each job's checkpoints in {@code jobs/<id>/}, which every worker must see at the same
 * path, since a resumed run checks its files' paths): none ever runs a job another holds, and a job whose worker died
 * is taken over once its lease runs out, resuming from its last checkpoint. Jobs are registered through a
 * {@link ServedModels} of the worker's own on the same registry.
 *
 * <pre>{@code
 * try (Worker w = new Worker(store, models, state, Worker.Options.defaults("worker-1"))) {
 *     w.run();    // until close()
 * }
 * }</pre>
 */
public final class Worker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Worker.class.getName());

    /**
     * How a worker works.
     *
     * @param id    its name in the jobs it claims (unique among the workers)
     * @param lease how long a claim holds without renewal: a job whose worker died waits this long to be taken over
     * @param poll  how long it waits before looking again when nothing is queued
     */
    public record Options(String id, Duration lease, Duration poll) {
        /**
         * Checks the durations.
         *
         * @throws IllegalArgumentException for a blank id, a lease under 1 s or a poll under 10 ms
         */
        public Options {
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("a worker's id must not be blank");
            }
            if (lease.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("a worker's lease must be at least 1 s, got " + lease);
            }
            if (poll.compareTo(Duration.ofMillis(10)) < 0) {
                throw new IllegalArgumentException("a worker's poll must be at least 10 ms, got " + poll);
            }
        }

        /** A lease of 30 s, polling every second. */
        public static Options defaults(String id) {
            return new Options(id, Duration.ofSeconds(30), Duration.ofSeconds(1));
        }
    }

    private final JobStore store;
    private final ServedModels models;
    private final Path state;
    private final Options options;
    private final Release release;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final Object idle = new Object();
    private final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tailor-worker-heartbeat");
        t.setDaemon(true);
        return t;
    });

    /**
     * A worker on {@code models}' base (which stays the caller's to close), with the jobs in {@code store} and the
     * shared state directory {@code state}.
     */
    public Worker(JobStore store, ServedModels models, Path state, Options options) {
        this.store = store;
        this.models = models;
        this.state = state;
        this.options = options;
        this.release = new Release(store, models, state);
    }

    /** Runs jobs until {@link #close()}. */
    public void run() {
        LOG.info(() -> "worker " + options.id() + " takes fine-tuning jobs on " + models.baseId());
        while (!stopping.get()) {
            boolean worked;
            try {
                worked = runOne();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "worker " + options.id() + ": " + e.getMessage(), e);
                worked = false;
            }
            if (!worked) {
                synchronized (idle) {
                    if (!stopping.get()) {
                        try {
                            idle.wait(options.poll().toMillis());
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }
            }
        }
    }

    /**
     * Claims one job and runs it.
     *
     * @return false when there was none to claim
     */
    public boolean runOne() {
        Claim claim = store.claim(options.id(), models.baseFingerprint(), options.lease());
        if (claim == null) {
            return false;
        }
        Job job = store.job(claim.job());
        LOG.info(() -> "worker " + options.id() + " runs fine-tuning job " + job.id() + " (attempt "
                + claim.attempt() + ")");
        AtomicBoolean lost = new AtomicBoolean();
        long every = Math.max(1, options.lease().toMillis() / 3);
        ScheduledFuture<?> renewal = heartbeat.scheduleAtFixedRate(() -> {
            try {
                if (!store.renew(claim, options.lease())) {
                    lost.set(true);
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "cannot renew the lease of fine-tuning job " + job.id(), e);
            }
        }, every, every, TimeUnit.MILLISECONDS);
        try {
            new JobRun(store, release, state, models.pretrained().dir(), models.pretrained().loading(), claim, job,
                    lost::get, stopping::get).run();
        } finally {
            renewal.cancel(false);
        }
        return true;
    }

    /** Stops: a job running stops at its next step and is left for another worker at once. */
    @Override
    public void close() {
        stopping.set(true);
        synchronized (idle) {
            idle.notifyAll();
        }
        heartbeat.shutdown();
    }
}
