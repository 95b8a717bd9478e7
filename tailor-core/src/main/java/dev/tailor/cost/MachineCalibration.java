package dev.tailor.cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.AtomicFiles;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.WeightMatrix;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code this-machine} profile: this machine measured with Tailor's own kernels (a float32 product of a training
 * pass's shape through {@link MatMul}, timed once the just-in-time compiler is done with it, and a read of 64 MiB on
 * every kernel thread; about a second and a half in a fresh JVM, most of it the compiler's), then cached under the user's
 * cache directory so the next run reads it. Tailor computes in float32 whatever its weights' type (BF16 weights are
 * widened as they are packed for the product), so the profile's 16-bit peak is the float32 product's rate too. A
 * cached measurement is used while the processor and the kernel thread count are the same.
 */
public final class MachineCalibration {
    /** The profile's name. */
    public static final String NAME = "this-machine";
    /** The share of the measured product rate a training run reaches by default (attention, element-wise work). */
    static final double UTILIZATION = 0.5;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Rows, inner size and outputs of the timed product: a linear of a training pass. */
    private static final int M = 256;
    private static final int K = 1024;
    private static final int N = 1024;
    private static final long READ_BYTES = 64L << 20;
    private static final double MAX_WARM_SECONDS = 2.5;
    private static final double QUIET_WINDOW_SECONDS = 0.25;
    private static final long QUIET_MILLIS = 5;

    private MachineCalibration() {
    }

    /**
     * A measurement.
     *
     * @param cpu          the processor's model name
     * @param threads      the kernel threads it ran on
     * @param gflops       the float32 product's rate
     * @param bandwidth    the read rate in bytes per second
     * @param memoryBytes  the physical memory
     * @param measuredAt   when
     */
    public record Measurement(String cpu, int threads, double gflops, double bandwidth, long memoryBytes,
                              String measuredAt) {

        /** This machine as a profile; {@code cacheFile} (may be null) is named in its source. */
        public HardwareProfile profile(Path cacheFile) {
            return new HardwareProfile(NAME, cpu + ", " + threads + " kernel threads", gflops / 1e3, gflops / 1e3,
                    memoryBytes, bandwidth, 0, UTILIZATION,
                    "measured with Tailor's kernels at " + measuredAt + ": a [" + M + "x" + K + "]x[" + K + "x" + N
                            + "] float32 product and a " + (READ_BYTES >> 20) + " MiB read"
                            + (cacheFile == null ? "" : "; cached in " + cacheFile));
        }
    }

    /**
     * The directory measurements are cached in: {@code TAILOR_CACHE}, else {@code $XDG_CACHE_HOME/tailor}, else
     * {@code ~/.cache/tailor} (empty variables count as unset).
     */
    public static Path cacheDir(Map<String, String> env, Path home) {
        return get(env, "TAILOR_CACHE").map(Path::of)
                .orElseGet(() -> get(env, "XDG_CACHE_HOME").map(p -> Path.of(p).resolve("tailor"))
                        .orElse(home.resolve(".cache").resolve("tailor")));
    }

    private static Optional<String> get(Map<String, String> env, String key) {
        return Optional.ofNullable(env.get(key)).filter(v -> !v.isBlank());
    }

    /**
     * This machine's profile: the measurement cached in {@code cacheDir} when it was made on this processor with this
     * many kernel threads (and {@code remeasure} is false), else a new one, cached there (a cache that cannot be
     * written is skipped).
     */
    public static HardwareProfile profile(Path cacheDir, boolean remeasure) {
        Path file = cacheDir.resolve(NAME + ".json");
        String cpu = cpuModel();
        if (!remeasure) {
            Optional<Measurement> cached = read(file);
            if (cached.isPresent() && cached.get().cpu().equals(cpu) && cached.get().threads() == Parallel.threads()) {
                return cached.get().profile(file);
            }
        }
        Measurement m = measure();
        return m.profile(write(file, m) ? file : null);
    }

    /** Measures this machine now. */
    public static Measurement measure() {
        return new Measurement(cpuModel(), Parallel.threads(), productGflops(), readBandwidth(), physicalMemory(),
                Instant.now().toString());
    }

    /** The median rate of {@code MatMul.matmulTransposed} on the training shape, float32 weights. */
    private static double productGflops() {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = new float[M * K];
        float[] w = new float[N * K];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextDouble(-1, 1);
        }
        float[] y = new float[M * N];
        WeightMatrix weight = WeightMatrix.of(w, N, K);
        List<Long> times = timed(() -> MatMul.matmulTransposed(x, M, weight, y), 0.15);
        return 2.0 * M * N * K / median(times) / 1e9;
    }

    /** The best rate of summing {@value #READ_BYTES} bytes split over the kernel threads, in bytes per second. */
    private static double readBandwidth() {
        long[] data = new long[(int) (READ_BYTES / Long.BYTES)];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        AtomicLong sink = new AtomicLong();
        List<Long> times = timed(() -> Parallel.parallelForRange(data.length, (from, to) -> {
            long sum = 0;
            for (int i = from; i < to; i++) {
                sum += data[i];
            }
            sink.addAndGet(sum);
        }), 0.1);
        return READ_BYTES / (times.stream().mapToLong(Long::longValue).min().orElseThrow() / 1e9);
    }

    /**
     * Warms {@code call} up until the just-in-time compiler is done with it, then times it for {@code seconds} (at
     * least 3 calls), in ns. A fresh JVM's first calls run interpreted or half-compiled, several times slower, and the
     * compiler's tiers finish one after another, each a plateau; so the warm-up lasts until the compiler has spent less
     * than {@value #QUIET_MILLIS} ms of the last {@value #QUIET_WINDOW_SECONDS} s (or, where the JVM does not report
     * its compilation time, for {@value #MAX_WARM_SECONDS} s), at most {@value #MAX_WARM_SECONDS} s.
     */
    private static List<Long> timed(Runnable call, double seconds) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean watched = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        long maxEnd = start + (long) (MAX_WARM_SECONDS * 1e9);
        long window = (long) (QUIET_WINDOW_SECONDS * 1e9);
        List<long[]> samples = new ArrayList<>();
        int first = 0;
        while (System.nanoTime() < maxEnd) {
            call.run();
            if (!watched) {
                continue;
            }
            long now = System.nanoTime();
            long compiled = jit.getTotalCompilationTime();
            samples.add(new long[] {now, compiled});
            while (first + 1 < samples.size() && now - samples.get(first + 1)[0] >= window) {
                first++;
            }
            if (now - samples.get(first)[0] >= window && compiled - samples.get(first)[1] < QUIET_MILLIS) {
                break;
            }
        }
        List<Long> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end || times.size() < 3) {
            long t0 = System.nanoTime();
            call.run();
            times.add(System.nanoTime() - t0);
        }
        return times;
    }

    /** The median of {@code nanos}, in seconds. */
    private static double median(List<Long> nanos) {
        long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        return sorted[sorted.length / 2] / 1e9;
    }

    /** The processor's model name ({@code /proc/cpuinfo}), else the architecture. */
    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.arch");
        }
        return System.getProperty("os.arch");
    }

    private static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory();
    }

    private static Optional<Measurement> read(Path file) {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            Measurement m = new Measurement(n.path("cpu").asText(), n.path("threads").asInt(),
                    n.path("gflops").asDouble(), n.path("bandwidth_gb_s").asDouble() * 1e9,
                    n.path("memory_bytes").asLong(), n.path("measured_at").asText());
            m.profile(file);
            return Optional.of(m);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean write(Path file, Measurement m) {
        ObjectNode n = JSON.createObjectNode();
        n.put("cpu", m.cpu());
        n.put("threads", m.threads());
        n.put("gflops", m.gflops());
        n.put("bandwidth_gb_s", m.bandwidth() / 1e9);
        n.put("memory_bytes", m.memoryBytes());
        n.put("measured_at", m.measuredAt());
        try {
            Files.createDirectories(file.getParent());
            byte[] bytes = JSON.writeValueAsBytes(n);
            AtomicFiles.write(file, ch -> ch.write(ByteBuffer.wrap(bytes)));
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
