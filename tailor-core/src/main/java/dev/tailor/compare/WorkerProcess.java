package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link MethodWorker} in a child JVM — the same Java, class path and JVM options as this one (debugging agents
 * apart) — so each method's peak memory is its own process's. The child's heap is governed as the launcher's is: the
 * parallel collector (unless the parent's options choose one) and a fixed young generation, the parent's {@code -Xmn},
 * else {@value #YOUNG_GEN} (the collector would otherwise size it freely, up to gigabytes of short-lived temporaries
 * before it collects), so the heap a run touches is known before it runs; a comparison also caps each child's heap
 * from its prediction ({@link Prediction#heapBytes()}), so that objects the collector has not reclaimed yet gather in
 * the old generation up to a known bound, not up to a quarter of the machine's memory. Its output goes to
 * {@code train.log}; its progress is read from the {@code metrics.jsonl} the trainer appends to, and handed to a
 * {@link ProgressListener}.
 */
final class WorkerProcess {
    static final String LOG = "train.log";
    /** The child's young generation unless the parent's options set one. */
    static final String YOUNG_GEN = "-Xmn32m";
    /** The child's collector unless the parent's options choose one. */
    static final String COLLECTOR = "-XX:+UseParallelGC";
    private static final long POLL_MILLIS = 200;

    private WorkerProcess() {
    }

    /**
     * The JVM options a child runs with: this JVM's (debugging agents apart), with the parallel collector and a fixed
     * young generation unless they choose otherwise.
     */
    static List<String> jvmOptions() {
        List<String> options = new ArrayList<>();
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-agentlib:") && !arg.startsWith("-javaagent:") && !arg.startsWith("-Xrunjdwp")) {
                options.add(arg);
            }
        }
        if (options.stream().noneMatch(o -> o.startsWith("-XX:+Use") && o.endsWith("GC"))) {
            options.add(COLLECTOR);
        }
        if (options.stream().noneMatch(o -> o.startsWith("-Xmn") || o.startsWith("-XX:NewSize")
                || o.startsWith("-XX:MaxNewSize"))) {
            options.add(YOUNG_GEN);
        }
        return options;
    }

    /** The command that runs the worker on {@code jobFile}, its heap capped at {@code heapBytes} (0: not capped). */
    static List<String> command(Path jobFile, long heapBytes) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions());
        if (heapBytes > 0) {
            cmd.add("-Xmx" + Math.ceilDiv(heapBytes, 1L << 20) + "m");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MethodWorker.class.getName(),
                jobFile.toAbsolutePath().toString()));
        return cmd;
    }

    /**
     * Runs the job written in {@code dir/job.json} to its end, its heap capped at {@code heapBytes} (0: as this JVM's
     * options say), telling {@code listener} of every update; when the listener throws, or this thread is interrupted,
     * the child is stopped (keeping its last checkpoint) and the exception goes on.
     *
     * @throws IllegalArgumentException when the worker refused its input (the message is its error line)
     * @throws IllegalStateException    when it failed otherwise
     */
    static void run(Path dir, String method, long steps, long heapBytes, ProgressListener listener)
            throws IOException, InterruptedException {
        Path log = dir.resolve(LOG);
        Process child = new ProcessBuilder(command(dir.resolve(Comparison.JOB), heapBytes))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        Thread stop = new Thread(child::destroy);
        Runtime.getRuntime().addShutdownHook(stop);
        long reported = -1;
        try {
            while (!child.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                reported = report(dir, method, steps, reported, listener);
            }
            report(dir, method, steps, reported, listener);
        } catch (InterruptedException | RuntimeException | Error e) {
            // stopped from outside, or by the listener: the child stops too, leaving its last checkpoint
            child.destroy();
            child.waitFor();
            throw e;
        } finally {
            Runtime.getRuntime().removeShutdownHook(stop);
        }
        int status = child.exitValue();
        if (status != 0) {
            String message = method + ": " + lastError(log) + " (see " + log + ")";
            throw status == MethodWorker.BAD_INPUT ? new IllegalArgumentException(message)
                    : new IllegalStateException(message);
        }
    }

    /** Tells {@code listener} of the newest update in {@code metrics.jsonl} past {@code reported}; returns it. */
    private static long report(Path dir, String method, long steps, long reported, ProgressListener listener) {
        JsonNode last = null;
        for (JsonNode line : Comparison.metrics(dir)) {
            if (line.has("loss")) {
                last = line;
            }
        }
        if (last == null || last.path("step").asLong() == reported) {
            return reported;
        }
        listener.step(method, last.path("step").asLong(), steps, last.path("loss").asDouble());
        return last.path("step").asLong();
    }

    /** The worker's last {@code error:} line, else its last line. */
    private static String lastError(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (lines.get(i).startsWith("error: ")) {
                    return lines.get(i).substring("error: ".length());
                }
            }
            return lines.isEmpty() ? "the training process failed without a message" : lines.getLast();
        } catch (IOException e) {
            return "the training process failed, and its log cannot be read: " + e.getMessage();
        }
    }
}
