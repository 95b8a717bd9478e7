package dev.tailor.cli;

import dev.tailor.serve.ApiRoutes;
import dev.tailor.serve.ServedModels;
import dev.tailor.serve.jobs.FineTuningApi;
import dev.tailor.serve.jobs.JobLimits;
import dev.tailor.serve.jobs.JobStore;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code tailor serve}'s fine-tuning options: OpenAI's files and fine-tuning jobs API on the server
 * ({@code --fine-tuning}), each tenant's limits, and one local worker process ({@code --local-worker}).
 */
final class FineTuningOptions {
    @Option(names = "--fine-tuning",
            description = "with --state: answer /v1/files and /v1/fine_tuning/jobs; the jobs are trained by "
                    + "tailor worker processes (or --local-worker) on the same registry")
    boolean enabled;

    @Option(names = "--local-worker",
            description = "with --fine-tuning: also run one tailor worker process here, at a lower priority and on "
                    + "--worker-threads threads, so training never starves serving")
    boolean localWorker;

    @Option(names = "--worker-threads", paramLabel = "N",
            description = "the local worker's kernel threads (default: a quarter of the cores, at least 1)")
    Integer workerThreads;

    @Option(names = "--max-file-bytes", paramLabel = "N", defaultValue = "104857600",
            description = "largest file a tenant may upload for fine-tuning (default ${DEFAULT-VALUE}, 100 MiB)")
    long maxFileBytes;

    @Option(names = "--max-concurrent-jobs", paramLabel = "N", defaultValue = "2",
            description = "most fine-tuning jobs a tenant may have validating, queued or running (default "
                    + "${DEFAULT-VALUE}); one more is 429")
    int maxConcurrentJobs;

    @Option(names = "--max-training-tokens", paramLabel = "N", defaultValue = "100000000",
            description = "most tokens all of a tenant's fine-tuning jobs may train (default ${DEFAULT-VALUE}); a job "
                    + "past it is 429")
    long maxTrainingTokens;

    /** What runs while the server does: the API's routes and the local worker, if any. */
    record Running(FineTuningApi api, JobStore store, LocalWorker worker) implements AutoCloseable {
        /** The routes to mount: the API's, or none. */
        public List<ApiRoutes> routes() {
            return api == null ? List.of() : List.of(api);
        }

        /** Stops the local worker (which leaves its job for another), then the API. */
        @Override
        public void close() {
            if (worker != null) {
                worker.close();
            }
            if (api != null) {
                api.close();
            }
            if (store != null) {
                store.close();
            }
        }
    }

    /**
     * Checks the options before anything starts.
     *
     * @throws IllegalArgumentException naming the flag that is wrong
     */
    void check(Path state) {
        if ((enabled || localWorker) && state == null) {
            throw new IllegalArgumentException("--fine-tuning needs --state DIR: the jobs, files and adapters live "
                    + "there");
        }
        if (localWorker && !enabled) {
            throw new IllegalArgumentException("--local-worker needs --fine-tuning");
        }
        if (workerThreads != null && workerThreads < 1) {
            throw new IllegalArgumentException("--worker-threads must be >= 1, got " + workerThreads);
        }
        try {
            new JobLimits(maxFileBytes, maxConcurrentJobs, maxTrainingTokens);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage().replace('_', '-'), e);
        }
    }

    /**
     * Starts what the options ask for {@code models} (served from {@code modelDir}, with the registry in
     * {@code state} and {@code database}, null for SQLite there).
     */
    Running start(ServedModels models, Path modelDir, Path state, String database) {
        if (!enabled) {
            return new Running(null, null, null);
        }
        JobStore store = JobStore.open(database != null ? database : JobStore.sqliteUrl(state));
        FineTuningApi api = new FineTuningApi(models, store, state,
                new JobLimits(maxFileBytes, maxConcurrentJobs, maxTrainingTokens));
        LocalWorker worker = null;
        if (localWorker) {
            int threads = workerThreads != null ? workerThreads
                    : Math.max(1, Runtime.getRuntime().availableProcessors() / 4);
            worker = LocalWorker.start(modelDir, state, database, threads);
        }
        return new Running(api, store, worker);
    }
}
