package dev.tailor.cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.AtomicFiles;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Numerics;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.WeightMatrix;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 * The {@code this-machine} profile: this machine measured with Tailor's own kernels in about a second and a half (a
 * float32 and a BF16-weight product of a training pass's shape through {@link MatMul}, and a read of 64 MiB on every
 * kernel thread), then cached under the user's cache directory so the next run reads it. A cached measurement is used
 * while the processor and the kernel thread count are the same.
 */
public final class MachineCalibration {
    /** The profile's name. */
    public static final String NAME = "this-machine";
    /** The share of the measured product rate a training run reaches by default (attention, element-wise work). */
    static final double UTILIZATION = 0.5;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Rows, inner size and outputs of the timed product: a linear of a training pass. */
    private static final int M = 512;
    private static final int K = 1024;
    private static final int N = 1024;
    private static final long READ_BYTES = 64L << 20;

    private MachineCalibration() {
    }

    /**
     * A measurement.
     *
     * @param cpu          the processor's model name
     * @param threads      the kernel threads it ran on
     * @param fp32Gflops   the float32 product's rate
     * @param bf16Gflops   the rate of the product with BF16 weights
     * @param bandwidth    the read rate in bytes per second
     * @param memoryBytes  the physical memory
     * @param measuredAt   when
     */
    public record Measurement(String cpu, int threads, double fp32Gflops, double bf16Gflops, double bandwidth,
                              long memoryBytes, String measuredAt) {

        /** This machine as a profile; {@code cacheFile} (may be null) is named in its source. */
        public HardwareProfile profile(Path cacheFile) {
            return new HardwareProfile(NAME, cpu + ", " + threads + " kernel threads", bf16Gflops / 1e3,
                    fp32Gflops / 1e3, memoryBytes, bandwidth, 0, UTILIZATION,
                    "measured with Tailor's kernels at " + measuredAt + ": a [" + M + "x" + K + "]x[" + K + "x" + N
                            + "] product (float32 and BF16 weights) and a " + (READ_BYTES >> 20) + " MiB read"
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

    /** Measures this machine now (about a second and a half). */
    public static Measurement measure() {
        double f32 = productGflops(DType.F32);
        double bf16 = productGflops(DType.BF16);
        return new Measurement(cpuModel(), Parallel.threads(), f32, bf16, readBandwidth(), physicalMemory(),
                Instant.now().toString());
    }

    /** The median rate of {@code MatMul.matmulTransposed} on the training shape with weights stored as {@code dtype}. */
    private static double productGflops(DType dtype) {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = new float[M * K];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] y = new float[M * N];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate((long) N * K * dtype.byteSize(), 64);
            ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            ValueLayout.OfShort i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < (long) N * K; i++) {
                float v = (float) rnd.nextGaussian();
                if (dtype == DType.F32) {
                    seg.setAtIndex(f32, i, v);
                } else {
                    seg.setAtIndex(i16, i, Numerics.floatToBf16(v));
                }
            }
            WeightMatrix w = new WeightMatrix(seg, dtype, N, K);
            List<Long> times = timed(() -> MatMul.matmulTransposed(x, M, w, y), 0.25, 0.35);
            return 2.0 * M * N * K / median(times);
        }
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
        }), 0.1, 0.15);
        return READ_BYTES / (times.stream().mapToLong(Long::longValue).min().orElseThrow() / 1e9);
    }

    /** Runs {@code call} for {@code warmSeconds}, then times it for {@code seconds} (at least 3 calls), in ns. */
    private static List<Long> timed(Runnable call, double warmSeconds, double seconds) {
        long warmEnd = System.nanoTime() + (long) (warmSeconds * 1e9);
        while (System.nanoTime() < warmEnd) {
            call.run();
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
                    n.path("fp32_gflops").asDouble(), n.path("bf16_gflops").asDouble(),
                    n.path("bandwidth_gb_s").asDouble() * 1e9, n.path("memory_bytes").asLong(),
                    n.path("measured_at").asText());
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
        n.put("fp32_gflops", m.fp32Gflops());
        n.put("bf16_gflops", m.bf16Gflops());
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
