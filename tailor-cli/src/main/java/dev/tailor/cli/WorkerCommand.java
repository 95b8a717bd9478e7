package dev.tailor.cli;

import dev.tailor.model.PretrainedModel;
import dev.tailor.serve.ServedModels;
import dev.tailor.serve.jobs.JobStore;
import dev.tailor.serve.jobs.Worker;
import dev.tailor.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code tailor worker}: drains the fine-tuning queue of a registry (jobs created through {@code tailor serve}'s
 * {@code /v1/fine_tuning/jobs}) until Ctrl-C or SIGTERM, which leaves a job in progress for another worker at once.
 * Workers on several machines share one PostgreSQL registry and one state directory.
 */
@Command(name = "worker", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train the fine-tuning jobs of a registry, one at a time, until stopped.")
public final class WorkerCommand implements Callable<Integer> {
    @Mixin
    QuantizeOption quantize;

    /** The system property of the kernels' thread count ({@code dev.tailor.tensor.Parallel}). */
    static final String THREADS_PROPERTY = "tailor.threads";

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--state", paramLabel = "DIR", required = true,
            description = "the state directory the servers use (the adapter store, uploaded files, jobs' "
                    + "checkpoints), at the same path on every machine")
    Path state;

    @Option(names = "--registry", paramLabel = "JDBC_URL",
            description = "the registry's database: jdbc:postgresql://HOST[:PORT]/NAME?user=U, shared by servers and "
                    + "workers (default: $TAILOR_DATABASE_URL; without either, SQLite in DIR/registry.db)")
    String registry;

    @Option(names = "--id", description = "this worker's name in the jobs it takes (default: HOST-PID)")
    String id;

    @Option(names = "--threads", paramLabel = "N",
            description = "threads for training's kernels (default: every core)")
    Integer threads;

    @Option(names = "--lease", paramLabel = "SECONDS", defaultValue = "30",
            description = "a job whose worker stops renewing its lease for this long is taken over by another "
                    + "(default ${DEFAULT-VALUE})")
    double lease;

    @Option(names = "--poll", paramLabel = "SECONDS", defaultValue = "1",
            description = "how often to look for a job while none is queued (default ${DEFAULT-VALUE})")
    double poll;

    @Option(names = "--exit-with-parent", hidden = true,
            description = "stop when the process that started this one ends (tailor serve's local worker)")
    boolean exitWithParent;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            }
            System.setProperty(THREADS_PROPERTY, threads.toString());
            if (Parallel.threads() != threads) {
                err.println("tailor worker: the kernels run on " + Parallel.threads() + " threads already; --threads "
                        + threads + " applies to a new process");
            }
        }
        if (!(lease >= 1)) {
            throw new IllegalArgumentException("--lease must be at least 1 second, got " + lease);
        }
        if (!(poll >= 0.01)) {
            throw new IllegalArgumentException("--poll must be at least 0.01 seconds, got " + poll);
        }
        if (id != null && id.isBlank()) {
            throw new IllegalArgumentException("--id must not be blank");
        }
        Worker.Options options = new Worker.Options(id != null ? id : defaultId(), seconds(lease), seconds(poll));
        Path dir = model.resolve();
        String url = registry != null ? registry : System.getenv("TAILOR_DATABASE_URL");
        String database = url == null || url.isEmpty() ? null : url;
        try (PretrainedModel pretrained = PretrainedModel.load(dir, quantize.loading());
             ServedModels models = new ServedModels(pretrained, dir.getFileName().toString(), state, database,
                     ServedModels.DEFAULT_ADAPTER_CACHE_BYTES);
             JobStore store = JobStore.open(database != null ? database : JobStore.sqliteUrl(state));
             Worker worker = new Worker(store, models, state, options)) {
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                worker.close();
                try {
                    stopped.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "tailor-worker-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            if (exitWithParent) {
                ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(worker::close));
            }
            err.printf("worker %s takes fine-tuning jobs on %s from %s, %d kernel threads (Ctrl-C stops)%n",
                    options.id(), dir.getFileName(), database != null ? "the PostgreSQL registry"
                            : state.resolve("registry.db"), Parallel.threads());
            err.flush();
            try {
                worker.run();
            } finally {
                stopped.countDown();
            }
        }
        return 0;
    }

    private static Duration seconds(double value) {
        return Duration.ofNanos(Math.round(Math.min(value, 1e9) * 1e9));
    }

    private static String defaultId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "worker";
        }
        return host + "-" + ProcessHandle.current().pid();
    }
}
