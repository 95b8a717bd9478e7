package dev.tailor.cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.AtomicFiles;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.Processor;
import jdk.incubator.vector.FloatVector;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@code this-machine} profile: this machine measured with Tailor's own kernels ({@link KernelCalibration}: the
 * products of a linear layer over a grid of shapes, the element-wise work, the optimizer, a training pass's overheads)
 * and a read of 64 MiB on every kernel thread, then cached under the user's cache directory so the next run reads it.
 * A training run is priced on it shape by shape ({@link PassTime}); its headline rate is the float32 product
 * {@code [256x1024]x[1024x1024]}. Tailor computes in float32 whatever its weights' type (BF16 weights are widened as
 * they are packed), so the profile's 16-bit peak is the float32 product's rate too.
 *
 * <p>Every figure is the best of several short tries, which another process can only slow down. Still, a machine
 * busy with other work can make even the best try slow; so a measurement whose headline rate is below
 * {@value #PLAUSIBLE_SHARE} of the machine's expected peak (kernel threads × float32 lanes of its vectors × 2 for a
 * fused multiply-add × 2 units × its clock) is made again, up to {@value #ATTEMPTS} times a few seconds apart, and one
 * that stays below is used for this run only, never cached, and said so. The one-minute load average is recorded
 * with it. A cached measurement is used while the processor, the kernel thread count and the measurement's form are
 * the same.
 */
public final class MachineCalibration {
    /** The profile's name. */
    public static final String NAME = "this-machine";
    /** The share of the measured product rate a run reaches when a utilisation is asked for instead of kernel times. */
    static final double UTILIZATION = 0.5;
    /** Below this share of the expected peak a measurement is implausible. */
    static final double PLAUSIBLE_SHARE = 0.1;
    static final int ATTEMPTS = 3;
    /** The cache's form: a cache of another form is measured again. */
    static final int SCHEMA = 2;
    private static final long PAUSE_MILLIS = 3000;
    private static final long READ_BYTES = 64L << 20;
    private static final int HEADLINE_ROWS = 256;
    private static final int HEADLINE_SIZE = 1024;

    private MachineCalibration() {
    }

    /**
     * A measurement.
     *
     * @param cpu           the processor's model name
     * @param threads       the kernel threads it ran on
     * @param gflops        the float32 product {@code [256x1024]x[1024x1024]}'s rate
     * @param expectedGflops the machine's expected peak, which {@code gflops} is judged against
     * @param bandwidth     the read rate in bytes per second
     * @param memoryBytes   the physical memory
     * @param loadAverage   the one-minute load average when it was measured (NaN where there is none)
     * @param measuredAt    when
     * @param kernels       the kernels' times
     */
    public record Measurement(String cpu, int threads, double gflops, double expectedGflops, double bandwidth,
                              long memoryBytes, double loadAverage, String measuredAt, KernelTimes kernels) {

        /** Whether the headline rate is at least {@value #PLAUSIBLE_SHARE} of the expected peak. */
        public boolean plausible() {
            return gflops >= PLAUSIBLE_SHARE * expectedGflops;
        }

        /** This machine as a profile; {@code cacheFile} (may be null) is named in its source. */
        public HardwareProfile profile(Path cacheFile) {
            String load = Double.isNaN(loadAverage) ? "" : String.format(Locale.ROOT, ", load average %.1f",
                    loadAverage);
            return new HardwareProfile(NAME, cpu + ", " + threads + " kernel threads", gflops / 1e3, gflops / 1e3,
                    memoryBytes, bandwidth, 0, UTILIZATION,
                    "measured with Tailor's kernels at " + measuredAt + load + ": a grid of products, the "
                            + "element-wise work, the optimizer and a " + (READ_BYTES >> 20) + " MiB read"
                            + (cacheFile == null ? "" : "; cached in " + cacheFile), kernels);
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

    /** {@link #profile(Path, boolean, Consumer)}, its notes dropped. */
    public static HardwareProfile profile(Path cacheDir, boolean remeasure) {
        return profile(cacheDir, remeasure, note -> { });
    }

    /**
     * This machine's profile: the measurement cached in {@code cacheDir} when it was made on this processor with this
     * many kernel threads, in this form (and {@code remeasure} is false), else a new one, cached there when it is
     * plausible (a cache that cannot be written is skipped). {@code notes} hears what a person should know: that the
     * machine is being measured, and a measurement too slow to be trusted.
     */
    public static HardwareProfile profile(Path cacheDir, boolean remeasure, Consumer<String> notes) {
        return profile(cacheDir, remeasure, notes, MachineCalibration::headline, MachineCalibration::measure,
                PAUSE_MILLIS);
    }

    /**
     * {@link #profile(Path, boolean, Consumer)} with the headline measured by {@code headline} (again after
     * {@code pauseMillis} while implausible) and the rest by {@code measure}.
     */
    static HardwareProfile profile(Path cacheDir, boolean remeasure, Consumer<String> notes,
                                   Supplier<Headline> headline, Function<Headline, Measurement> measure,
                                   long pauseMillis) {
        Path file = cacheDir.resolve(NAME + ".json");
        if (!remeasure) {
            Optional<Measurement> cached = read(file);
            if (cached.isPresent() && cached.get().cpu().equals(cpuModel())
                    && cached.get().threads() == Parallel.threads()) {
                return cached.get().profile(file);
            }
        }
        notes.accept("measuring this machine with Tailor's kernels (once, then cached in " + file + ")...");
        Measurement m = measure.apply(measurePlausibly(notes, headline, pauseMillis));
        if (!m.plausible()) {
            return m.profile(null);
        }
        return m.profile(write(file, m) ? file : null);
    }

    /**
     * The headline product's rate against the machine's expected peak.
     *
     * @param gflops         the rate of {@code [256x1024]x[1024x1024]} in float32
     * @param expectedGflops the machine's expected peak
     * @param loadAverage    the one-minute load average when it was measured (NaN where there is none)
     */
    record Headline(double gflops, double expectedGflops, double loadAverage) {
        /** Whether the rate is at least {@value #PLAUSIBLE_SHARE} of the expected peak. */
        boolean plausible() {
            return gflops >= PLAUSIBLE_SHARE * expectedGflops;
        }
    }

    /**
     * The headline from {@code measure}, measured again (after {@code pauseMillis}) while it is implausible, at most
     * {@value #ATTEMPTS} times; the fastest is returned, and when even that is implausible {@code notes} hears that it
     * is used for this run only.
     */
    static Headline measurePlausibly(Consumer<String> notes, Supplier<Headline> measure, long pauseMillis) {
        Headline best = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            Headline h = measure.get();
            if (best == null || h.gflops() > best.gflops()) {
                best = h;
            }
            if (best.plausible()) {
                return best;
            }
            if (attempt < ATTEMPTS) {
                notes.accept(String.format(Locale.ROOT, "this machine measured %.1f GFLOP/s, below %.0f%% of the "
                                + "%.0f GFLOP/s it should reach (load average %.1f): measuring again",
                        h.gflops(), 100 * PLAUSIBLE_SHARE, h.expectedGflops(), h.loadAverage()));
                try {
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        notes.accept(String.format(Locale.ROOT, "warning: this machine measured %.1f GFLOP/s, below %.0f%% of the "
                        + "%.0f GFLOP/s it should reach (load average %.1f; other work is using it): the predictions "
                        + "use this measurement for this run only, and it is not cached", best.gflops(),
                100 * PLAUSIBLE_SHARE, best.expectedGflops(), best.loadAverage()));
        return best;
    }

    /** The headline product timed now: the best of short tries once the compiler is done with it. */
    static Headline headline() {
        double seconds = KernelCalibration.headlineSeconds(HEADLINE_ROWS, HEADLINE_SIZE, HEADLINE_SIZE);
        return new Headline(2.0 * HEADLINE_ROWS * HEADLINE_SIZE * HEADLINE_SIZE / seconds / 1e9, expectedGflops(),
                loadAverage());
    }

    /** Measures this machine's kernels now, the headline's rate the better of {@code headline}'s and the grid's. */
    static Measurement measure(Headline headline) {
        KernelTimes kernels = KernelCalibration.measure();
        double seconds = kernels.forward().seconds(HEADLINE_ROWS, HEADLINE_SIZE, HEADLINE_SIZE);
        double gflops = Math.max(headline.gflops(), 2.0 * HEADLINE_ROWS * HEADLINE_SIZE * HEADLINE_SIZE / seconds / 1e9);
        return new Measurement(cpuModel(), Parallel.threads(), gflops, headline.expectedGflops(), readBandwidth(),
                physicalMemory(), headline.loadAverage(), Instant.now().toString(), kernels);
    }

    /**
     * The float32 rate this machine should reach: kernel threads × the lanes of its preferred float vector × 2 (a
     * fused multiply-add) × 2 (units per core) × its clock ({@code /proc/cpuinfo}, 2.5 GHz where it is not given).
     */
    static double expectedGflops() {
        return Parallel.threads() * FloatVector.SPECIES_PREFERRED.length() * 2.0 * 2.0 * clockGhz();
    }

    private static double clockGhz() {
        String mhz = Processor.cpuinfo("cpu MHz");
        try {
            return mhz != null ? Double.parseDouble(mhz) / 1e3 : 2.5;
        } catch (NumberFormatException e) {
            return 2.5;
        }
    }

    /** The one-minute load average ({@code /proc/loadavg}), or NaN where there is none. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** The best rate of summing {@value #READ_BYTES} bytes of native memory split over the kernel threads, in bytes per second. */
    private static double readBandwidth() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment data = arena.allocate(READ_BYTES, 64);
            DoubleAdder sink = new DoubleAdder();
            return READ_BYTES / KernelCalibration.best(() -> sink.add(PeakKernels.readAllThreads(data)));
        }
    }

    /** The processor's model name ({@code /proc/cpuinfo}), else the architecture. */
    public static String cpuModel() {
        String model = Processor.cpuinfo("model name");
        return model != null ? model : System.getProperty("os.arch");
    }

    /** The physical memory in bytes (the heap's limit where the platform does not say). */
    static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory();
    }

    /** The measurement cached in {@code file}, if it is one of this form. */
    static Optional<Measurement> read(Path file) {
        try {
            JsonNode n = CacheJson.MAPPER.readTree(file.toFile());
            if (n.path("schema").asInt() != SCHEMA) {
                return Optional.empty();
            }
            Measurement m = new Measurement(n.path("cpu").asText(), n.path("threads").asInt(),
                    n.path("gflops").asDouble(), n.path("expected_gflops").asDouble(),
                    n.path("bandwidth_gb_s").asDouble() * 1e9, n.path("memory_bytes").asLong(),
                    n.path("load_average").isNumber() ? n.path("load_average").asDouble() : Double.NaN,
                    n.path("measured_at").asText(), KernelTimes.of(n.path("kernels")));
            m.profile(file);
            return Optional.of(m);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Caches {@code m} in {@code file} (atomically); false when it cannot be written. */
    static boolean write(Path file, Measurement m) {
        ObjectNode n = CacheJson.MAPPER.createObjectNode();
        n.put("schema", SCHEMA);
        n.put("cpu", m.cpu());
        n.put("threads", m.threads());
        n.put("gflops", m.gflops());
        n.put("expected_gflops", m.expectedGflops());
        n.put("bandwidth_gb_s", m.bandwidth() / 1e9);
        n.put("memory_bytes", m.memoryBytes());
        if (!Double.isNaN(m.loadAverage())) {
            n.put("load_average", m.loadAverage());
        }
        n.put("measured_at", m.measuredAt());
        n.set("kernels", m.kernels().json());
        return writeJson(file, n);
    }

    /** Writes {@code n} to {@code file} atomically, its directory created; false when it cannot be written. */
    static boolean writeJson(Path file, ObjectNode n) {
        try {
            Files.createDirectories(file.getParent());
            byte[] bytes = CacheJson.MAPPER.writeValueAsBytes(n);
            AtomicFiles.write(file, ch -> ch.write(ByteBuffer.wrap(bytes)));
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The cache file's mapper, made when the cache is first read or written: the processor's model is asked for
     * before every benchmark, which should not load Jackson's data binding (~15 MB resident) while it measures.
     */
    private static final class CacheJson {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }
}
