package dev.tailor.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code tailor serve --local-worker}'s worker: a {@code tailor worker} child process on the server's registry, with
 * its own JVM so that its kernels run on their own {@code N} threads (the server's pool is never shared with training)
 * and, where {@code nice} exists, at niceness {@value #NICENESS}, so that the scheduler runs serving first. It stops
 * when the server does (and by itself if the server dies).
 */
final class LocalWorker implements AutoCloseable {
    /** The niceness the worker runs at: below serving's priority. */
    static final int NICENESS = 10;

    private final Process process;

    private LocalWorker(Process process) {
        this.process = process;
    }

    /** Starts the worker on {@code threads} kernel threads; its log goes to this process's. */
    static LocalWorker start(Path modelDir, Path state, String database, int threads) {
        List<String> command = new ArrayList<>();
        Path nice = Path.of("/usr/bin/nice");
        if (Files.isExecutable(nice)) {
            command.addAll(List.of(nice.toString(), "-n", String.valueOf(NICENESS)));
        }
        command.add(ProcessHandle.current().info().command().orElse("java"));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-agentlib") && !arg.startsWith("-javaagent")
                    && !arg.startsWith("-D" + WorkerCommand.THREADS_PROPERTY + "=")) {
                command.add(arg);
            }
        }
        command.add("-D" + WorkerCommand.THREADS_PROPERTY + "=" + threads);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), TailorCommand.class.getName(), "worker",
                "--model", modelDir.toString(), "--state", state.toString(), "--id",
                "local-" + ProcessHandle.current().pid(), "--exit-with-parent"));
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        // the database's URL may hold a password: in the environment, not on a command line others can read
        if (database != null) {
            builder.environment().put("TAILOR_DATABASE_URL", database);
        } else {
            builder.environment().remove("TAILOR_DATABASE_URL");
        }
        try {
            return new LocalWorker(builder.start());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the local worker: " + e.getMessage(), e);
        }
    }

    /** Asks the worker to stop (it leaves its job for another worker) and waits for it, 60 s at most. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
