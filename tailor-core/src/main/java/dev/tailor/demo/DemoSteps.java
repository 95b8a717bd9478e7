package dev.tailor.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.AtomicFiles;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The demo's steps, each a directory under the output that is made once and reused: a step runs in
 * {@code NAME.partial/} and is renamed to {@code NAME/} when it has finished, with {@value #MARKER} recording the key
 * of its inputs and its time. A later run reuses a finished step whose key matches; one whose key differs (other
 * settings, another corpus) is made again. A step stopped half-way is resumed from its partial directory when the key
 * matches (training resumes from its last checkpoint), else started afresh; one stopped between finishing and its
 * rename is renamed.
 */
final class DemoSteps {
    /** The file in a finished step's directory naming its key. */
    static final String MARKER = "demo-step.json";
    private static final String PARTIAL_KEY = "demo-step.key";

    private final Path root;

    DemoSteps(Path root) {
        this.root = root;
    }

    /** What a step does, in its partial directory. */
    @FunctionalInterface
    interface Work {
        /**
         * Makes the step's files in {@code dir}.
         *
         * @param resume whether {@code dir} holds a stopped attempt at the same step to continue
         */
        void run(Path dir, boolean resume) throws IOException;
    }

    /**
     * A finished step.
     *
     * @param dir        its directory
     * @param seconds    how long it took when it ran
     * @param cpuSeconds the processor time it took (on every core; comparable between a busy machine and a quiet one)
     * @param reused     whether this run reused it
     */
    record Done(Path dir, double seconds, double cpuSeconds, boolean reused) {
    }

    /** Runs the step {@code name} with inputs {@code key}, or reuses it when it has finished with that key. */
    Done run(String name, String key, Work work) throws IOException {
        Path dir = root.resolve(name);
        JsonNode marker = marker(dir);
        if (marker != null && key.equals(marker.path("key").asText())) {
            return new Done(dir, marker.path("seconds").asDouble(), marker.path("cpu_seconds").asDouble(), true);
        }
        Path partial = root.resolve(name + ".partial");
        JsonNode finished = marker(partial);
        if (finished != null && key.equals(finished.path("key").asText())) {
            publish(partial, dir);
            return new Done(dir, finished.path("seconds").asDouble(), finished.path("cpu_seconds").asDouble(), true);
        }
        boolean resume = Files.isDirectory(partial) && Files.isRegularFile(partial.resolve(PARTIAL_KEY))
                && key.equals(Files.readString(partial.resolve(PARTIAL_KEY)));
        if (!resume) {
            DemoFiles.deleteTree(partial);
            Files.createDirectories(partial);
            DemoFiles.writeText(partial.resolve(PARTIAL_KEY), key);
        }
        long start = System.nanoTime();
        double cpuStart = cpuSeconds();
        work.run(partial, resume);
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpu = cpuSeconds() - cpuStart;
        ObjectNode done = DemoFiles.JSON.createObjectNode();
        done.put("key", key);
        done.put("seconds", Math.round(seconds * 10) / 10.0);
        done.put("cpu_seconds", Math.round(cpu * 10) / 10.0);
        Files.delete(partial.resolve(PARTIAL_KEY));
        DemoFiles.writeJson(partial.resolve(MARKER), done);
        publish(partial, dir);
        return new Done(dir, seconds, cpu, false);
    }

    /** The processor time this process has used, in seconds (0 where the platform does not say). */
    static double cpuSeconds() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return Math.max(0, os.getProcessCpuTime()) / 1e9;
        }
        return 0;
    }

    /** Renames a finished partial directory to the step's, replacing a stale one. */
    private void publish(Path partial, Path dir) throws IOException {
        DemoFiles.deleteTree(dir);
        AtomicFiles.moveReplacing(partial, dir);
        AtomicFiles.syncDirectory(root);
    }

    private static JsonNode marker(Path dir) {
        Path file = dir.resolve(MARKER);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return DemoFiles.JSON.readTree(file.toFile());
        } catch (IOException e) {
            return null;
        }
    }
}
