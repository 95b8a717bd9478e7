package dev.tailor.cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.tensor.Parallel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * This processor's limits, measured: its float32 fused multiply-add peak ({@link PeakKernels#fma}: independent
 * accumulator chains, so the rate is the vector units' throughput, not an FMA's latency) on one thread and on every
 * kernel thread of {@link Parallel}, and its streaming memory bandwidth over a native buffer several times the
 * last-level cache (read-only on one thread and on all; copy and STREAM's triad on all). A benchmark's GFLOP/s and
 * GB/s are read as fractions of these. Every figure is the best of a few tries once the compiler is done with the
 * loop; copy and triad count the bytes read and written. The measurement takes a few seconds and is cached, one file
 * per kernel thread count, beside {@code this-machine}'s ({@link MachineCalibration#cacheDir}); a cache of another
 * processor or form is measured again.
 *
 * <p>On a machine shared with other work the all-threads figures can come out near one thread's, because another
 * process holds the other cores. The FMA peak of all threads should be about one thread's times the physical cores
 * they cover; below {@value #SCALING_SHARE} of that the measurement is {@linkplain #disturbed() disturbed}, the FMA
 * part is made again (up to {@value #ATTEMPTS} times, a second apart, the best kept), and limits that stay disturbed
 * are used for the run at hand but not cached.
 *
 * @param cpu                the processor's model name
 * @param threads            the kernel threads the "all threads" figures ran on
 * @param cores              the physical cores those threads cover (fewer where cores run two threads)
 * @param fmaGflopsOne       the FMA peak of one thread, GFLOP/s
 * @param fmaGflopsAll       the FMA peak of all kernel threads, GFLOP/s
 * @param fmaNominalGflops   what the processor should reach by its vector width and clock (see
 *                           {@link MachineCalibration}), GFLOP/s
 * @param readGbOne          the read rate of one thread, GB/s
 * @param readGbAll          the read rate of all kernel threads, GB/s
 * @param copyGbAll          the copy rate of all kernel threads (bytes read plus written), GB/s
 * @param triadGbAll         the triad rate of all kernel threads (bytes read plus written), GB/s
 * @param bufferBytes        the buffer the memory passes ran over
 * @param loadAverage        the one-minute load average when measured (NaN where there is none)
 * @param measuredAt         when
 */
public record MachineLimits(String cpu, int threads, int cores, double fmaGflopsOne, double fmaGflopsAll,
                            double fmaNominalGflops, double readGbOne, double readGbAll, double copyGbAll,
                            double triadGbAll, long bufferBytes, double loadAverage, String measuredAt) {
    /** The cache's form: a cache of another form is measured again. */
    static final int SCHEMA = 1;
    /** The least share of one thread's FMA peak times the cores that all threads reach undisturbed. */
    static final double SCALING_SHARE = 0.75;
    static final int ATTEMPTS = 3;
    private static final long PAUSE_MILLIS = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int FMA_ITERATIONS = 1 << 20;
    private static final int MEMORY_TRIES = 3;
    private static final long MIN_BUFFER = 1L << 30;
    private static final int CACHES_PER_BUFFER = 4;
    /** Keeps the loops' results alive, so the compiler cannot drop their work. */
    private static volatile double sink;

    /**
     * The limits cached in {@code cacheDir} for this processor and this many kernel threads, else measured now (after
     * {@code notes} hears so) and cached there (a cache that cannot be written is skipped).
     */
    public static MachineLimits load(Path cacheDir, Consumer<String> notes) {
        Path file = cacheFile(cacheDir, Parallel.threads());
        Optional<MachineLimits> cached = read(file);
        if (cached.isPresent() && cached.get().cpu().equals(MachineCalibration.cpuModel())) {
            return cached.get();
        }
        notes.accept("measuring this machine's FMA peak and memory bandwidth (once, then cached in " + file + ")...");
        MachineLimits limits = measure(defaultBufferBytes(), notes);
        if (!limits.disturbed()) {
            limits.write(file);
        }
        return limits;
    }

    /**
     * Whether other work held the cores while this was measured: all threads' FMA peak below {@value #SCALING_SHARE}
     * of one thread's times the cores.
     */
    public boolean disturbed() {
        return fmaGflopsAll < SCALING_SHARE * Math.min(threads, cores) * fmaGflopsOne;
    }

    /** The cache file for {@code threads} kernel threads in {@code cacheDir}. */
    public static Path cacheFile(Path cacheDir, int threads) {
        return cacheDir.resolve("machine-limits-" + threads + "-threads.json");
    }

    /**
     * Measures now, the memory passes over a buffer of about {@code bufferBytes}; {@code notes} hears of a disturbed
     * FMA measurement, made again, and of one that stays so.
     */
    public static MachineLimits measure(long bufferBytes, Consumer<String> notes) {
        double load = MachineCalibration.loadAverage();
        for (int i = 0; i < 300; i++) {
            sink = PeakKernels.fma(2_000) + PeakKernels.fmaAllThreads(2_000);
        }
        int cores = Math.min(Parallel.threads(), physicalCores());
        double[] fma = fmaPeaks();
        for (int attempt = 2; attempt <= ATTEMPTS && fma[1] < SCALING_SHARE * cores * fma[0]; attempt++) {
            notes.accept(String.format(Locale.ROOT, "%d threads reached %.0f GFLOP/s against one thread's "
                    + "%.0f on %d cores (load average %.1f): other work holds the cores, measuring again", Parallel
                    .threads(), fma[1], fma[0], cores, MachineCalibration.loadAverage()));
            try {
                Thread.sleep(PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            double[] again = fmaPeaks();
            fma = again[1] > fma[1] ? again : fma;
        }
        if (fma[1] < SCALING_SHARE * cores * fma[0]) {
            notes.accept("warning: other work held the cores while this machine was measured; its limits are used "
                    + "for this run only and not cached");
        }
        long bytes = (bufferBytes / (6L * PeakKernels.BLOCK)) * 6L * PeakKernels.BLOCK;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(bytes, 64);
            warmMemoryLoops(seg.asSlice(0, 6L * 4096 * PeakKernels.BLOCK));
            double readOne = bytes / bestOf(() -> sink = PeakKernels.read(seg, 0, bytes)) / 1e9;
            double readAll = bytes / bestOf(() -> sink = PeakKernels.readAllThreads(seg)) / 1e9;
            double copyAll = bytes / bestOf(() -> PeakKernels.copyAllThreads(seg)) / 1e9;
            long triadBytes = 3L * PeakKernels.blocks(bytes / 3) * PeakKernels.BLOCK;
            double triadAll = triadBytes / bestOf(() -> PeakKernels.triadAllThreads(seg)) / 1e9;
            return new MachineLimits(MachineCalibration.cpuModel(), Parallel.threads(), cores, fma[0], fma[1],
                    MachineCalibration.expectedGflops(), readOne, readAll, copyAll, triadAll, bytes, load,
                    Instant.now().toString());
        }
    }

    /** The FMA peak of one thread and of all kernel threads, GFLOP/s. */
    private static double[] fmaPeaks() {
        double flops = PeakKernels.fmaFlops(FMA_ITERATIONS);
        double one = flops / KernelCalibration.best(() -> sink = PeakKernels.fma(FMA_ITERATIONS)) / 1e9;
        double all = Parallel.threads() * flops
                / KernelCalibration.best(() -> sink = PeakKernels.fmaAllThreads(FMA_ITERATIONS)) / 1e9;
        return new double[] {one, all};
    }

    /**
     * The physical cores of this machine: distinct (package, core) pairs under {@code /sys/devices/system/cpu}, the
     * processor count where they are not given.
     */
    static int physicalCores() {
        try (Stream<Path> cpus = Files.list(Path.of("/sys/devices/system/cpu"))) {
            long cores = cpus.filter(d -> d.getFileName().toString().matches("cpu\\d+"))
                    .map(d -> d.resolve("topology"))
                    .filter(t -> Files.isReadable(t.resolve("core_id")))
                    .map(t -> readStripped(t.resolve("physical_package_id")) + "/" + readStripped(t.resolve("core_id")))
                    .distinct().count();
            return cores > 0 ? (int) cores : Runtime.getRuntime().availableProcessors();
        } catch (IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    private static String readStripped(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs the memory loops on a small slice until the compiler has them. */
    private static void warmMemoryLoops(MemorySegment small) {
        for (int i = 0; i < 200; i++) {
            sink = PeakKernels.read(small, 0, small.byteSize()) + PeakKernels.readAllThreads(small);
            PeakKernels.copyAllThreads(small);
            PeakKernels.triadAllThreads(small);
        }
    }

    /** The best time of {@value #MEMORY_TRIES} calls, in seconds. */
    private static double bestOf(Runnable call) {
        double best = Double.POSITIVE_INFINITY;
        for (int t = 0; t < MEMORY_TRIES; t++) {
            long s = System.nanoTime();
            call.run();
            best = Math.min(best, Math.max(1e-9, (System.nanoTime() - s) / 1e9));
        }
        return best;
    }

    /**
     * The memory passes' buffer: {@value #CACHES_PER_BUFFER} times the last-level cache ({@code /sys}), at least
     * 1 GiB, at most a quarter of the physical memory.
     */
    public static long defaultBufferBytes() {
        long wanted = Math.max(MIN_BUFFER, CACHES_PER_BUFFER * lastLevelCacheBytes());
        return Math.min(wanted, MachineCalibration.physicalMemory() / 4);
    }

    /** The largest cache of the first processor ({@code /sys/devices/system/cpu/cpu0/cache}), 0 where not given. */
    static long lastLevelCacheBytes() {
        try (Stream<Path> dirs = Files.list(Path.of("/sys/devices/system/cpu/cpu0/cache"))) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("index"))
                    .mapToLong(d -> cacheSize(d.resolve("size"))).max().orElse(0);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static long cacheSize(Path file) {
        try {
            String s = readStripped(file);
            long unit = s.endsWith("K") ? 1L << 10 : s.endsWith("M") ? 1L << 20 : s.endsWith("G") ? 1L << 30 : 1;
            return Long.parseLong(unit == 1 ? s : s.substring(0, s.length() - 1)) * unit;
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** The FMA peak for {@code threads} threads, GFLOP/s: measured for one and for {@link #threads()} only. */
    public OptionalDouble fmaGflops(int threads) {
        return threads == this.threads ? OptionalDouble.of(fmaGflopsAll)
                : threads == 1 ? OptionalDouble.of(fmaGflopsOne) : OptionalDouble.empty();
    }

    /** The read rate for {@code threads} threads, GB/s: measured for one and for {@link #threads()} only. */
    public OptionalDouble readGbPerS(int threads) {
        return threads == this.threads ? OptionalDouble.of(readGbAll)
                : threads == 1 ? OptionalDouble.of(readGbOne) : OptionalDouble.empty();
    }

    /** The figures by name, in order (the names a benchmark's {@code RESULT} line and the cache use). */
    public Map<String, Object> fields() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("cpu", cpu);
        r.put("threads", threads);
        r.put("cores", cores);
        r.put("fma_peak_gflops_1_thread", round(fmaGflopsOne));
        r.put("fma_peak_gflops", round(fmaGflopsAll));
        r.put("fma_nominal_gflops", round(fmaNominalGflops));
        r.put("stream_read_gb_per_s_1_thread", round(readGbOne));
        r.put("stream_read_gb_per_s", round(readGbAll));
        r.put("stream_copy_gb_per_s", round(copyGbAll));
        r.put("stream_triad_gb_per_s", round(triadGbAll));
        r.put("buffer_mib", bufferBytes >> 20);
        if (!Double.isNaN(loadAverage)) {
            r.put("load_average", loadAverage);
        }
        r.put("measured_at", measuredAt);
        return r;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /** The limits cached in {@code file}, if it holds some of this form. */
    static Optional<MachineLimits> read(Path file) {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n.path("schema").asInt() != SCHEMA) {
                return Optional.empty();
            }
            return Optional.of(new MachineLimits(n.path("cpu").asText(), n.path("threads").asInt(),
                    n.path("cores").asInt(),
                    n.path("fma_peak_gflops_1_thread").asDouble(), n.path("fma_peak_gflops").asDouble(),
                    n.path("fma_nominal_gflops").asDouble(), n.path("stream_read_gb_per_s_1_thread").asDouble(),
                    n.path("stream_read_gb_per_s").asDouble(), n.path("stream_copy_gb_per_s").asDouble(),
                    n.path("stream_triad_gb_per_s").asDouble(), n.path("buffer_mib").asLong() << 20,
                    n.path("load_average").isNumber() ? n.path("load_average").asDouble() : Double.NaN,
                    n.path("measured_at").asText()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Caches these limits in {@code file} (atomically); false when it cannot be written. */
    public boolean write(Path file) {
        ObjectNode n = JSON.createObjectNode();
        n.put("schema", SCHEMA);
        n.setAll(JSON.<ObjectNode>valueToTree(fields()));
        return MachineCalibration.writeJson(file, n);
    }
}
