package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.cost.HardwareProfile;
import dev.tailor.cost.MachineCalibration;
import dev.tailor.io.AtomicFiles;
import dev.tailor.train.TrainingMethod;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * What a comparison's training process costs beyond what the cost model counts, measured once on this machine by a
 * child process exactly like a method's ({@link WorkerProcess}: the same Java, options and worker) training a tiny
 * LoRA run on the base ({@value #STEPS} updates on the first {@value #SAMPLE} lines of the comparison's data, evaluated
 * on the next {@value #HELD_OUT}, in its sequence length and batch), then cached beside the machine's kernel times for
 * this Java, these options, this processor, shape and data:
 * <ul>
 *   <li>the Java runtime's own memory — its code and class metadata, the compiled code, the collector's tables, thread
 *   stacks, the native allocator's arenas: the run's peak resident memory less its heap generations' peaks and the
 *   base's resident mapped pages;</li>
 *   <li>the most its young generation may take (the {@code -Xmn} the children run with);</li>
 *   <li>the warm-up: a fresh process's first updates run before the just-in-time compiler is done with Tailor's
 *   kernels, many times slower: the run's updates' time less as many updates at the pace of its last
 *   {@value #STEADY} (a method's process pays it once, whatever its budget); measured for an adapter by the LoRA run
 *   and for fine-tuning by a second tiny run, of full fine-tuning.</li>
 * </ul>
 *
 * @param outsideHeapBytes the runtime's own memory outside the heap
 * @param youngGenBytes    the most the young generation may take
 * @param warmupSeconds    what a process's first updates take beyond their steady pace, training an adapter
 * @param fineTuningWarmupSeconds and fine-tuning (which runs more of Tailor's code: weight gradients, a trainable
 *                         head and embeddings), from a second tiny run, of full fine-tuning
 * @param java             the Java runtime's version it was measured with
 * @param jvmOptions       the children's options it was measured with
 * @param cpu              the processor
 * @param seqLen           the sequence length it was measured with
 * @param batchSize        the batch it was measured with
 * @param data             the data it was measured on (its file and size)
 * @param measuredAt       when
 */
public record RuntimeBaseline(long outsideHeapBytes, long youngGenBytes, double warmupSeconds,
                              double fineTuningWarmupSeconds, String java,
                              List<String> jvmOptions, String cpu, int seqLen, int batchSize, String data,
                              String measuredAt) {
    static final String FILE = MachineCalibration.NAME + "-runtime.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int STEPS = 120;
    /** Lines of the comparison's data the tiny run trains on, and holds out after them. */
    private static final int SAMPLE = 4096;
    private static final int HELD_OUT = 64;
    static final int STEADY = 20;

    /** Copies the options. */
    public RuntimeBaseline {
        jvmOptions = List.copyOf(jvmOptions);
    }

    /**
     * The baseline cached in {@code cacheDir} for this Java, these children's options and this processor (unless
     * {@code remeasure}), else measured now on {@code model} (in a directory under {@code cacheDir}, removed after) and
     * cached; {@code notes} hears that it is being measured.
     *
     * @throws IllegalStateException when the measuring process fails
     */
    public static RuntimeBaseline of(Path cacheDir, Path model, String modelName, HardwareProfile machine, Path data,
                                     int seqLen, int batchSize, boolean remeasure, Consumer<String> notes)
            throws IOException, InterruptedException {
        Path file = cacheDir.resolve(FILE);
        String java = System.getProperty("java.version");
        List<String> options = WorkerProcess.jvmOptions();
        String cpu = machine.description();
        if (!remeasure) {
            Optional<RuntimeBaseline> cached = read(file);
            if (cached.isPresent() && cached.get().java().equals(java) && cached.get().jvmOptions().equals(options)
                    && cached.get().cpu().equals(cpu) && cached.get().seqLen() == seqLen
                    && cached.get().batchSize() == batchSize && cached.get().data().equals(dataKey(data))) {
                return cached.get();
            }
        }
        notes.accept("measuring the Java runtime's own memory and warm-up with a tiny training run (once, then cached "
                + "in " + file + ")...");
        Files.createDirectories(cacheDir);
        Path dir = Files.createTempDirectory(cacheDir, "runtime-");
        try {
            Path run = measure(dir, model, modelName, machine, data, seqLen, batchSize, "lora");
            Measurement m = Measurement.of(JSON.readTree(run.resolve(MethodWorker.MEASUREMENT).toFile()));
            Path full = measure(dir, model, modelName, machine, data, seqLen, batchSize, "full");
            RuntimeBaseline b = new RuntimeBaseline(m.memory().outsideHeap(m.peakRssBytes()), m.youngGenBytes(),
                    warmup(updateSeconds(run)), warmup(updateSeconds(full)), java, options, cpu, seqLen, batchSize,
                    dataKey(data), Instant.now().toString());
            write(file, b);
            return b;
        } finally {
            delete(dir);
        }
    }

    /** A baseline of set figures (no measuring), for a comparison told them. */
    public static RuntimeBaseline of(long outsideHeapBytes, long youngGenBytes, double warmupSeconds,
                                     double fineTuningWarmupSeconds) {
        return new RuntimeBaseline(outsideHeapBytes, youngGenBytes, warmupSeconds, fineTuningWarmupSeconds, "",
                List.of(), "", 0, 0, "", "");
    }

    /**
     * The warm-up of a process training {@code method}: the fine-tuning run's for {@code full} and {@code partial},
     * the LoRA run's for an adapter.
     */
    public double warmupSeconds(TrainingMethod method) {
        return method instanceof TrainingMethod.FineTuning ? fineTuningWarmupSeconds : warmupSeconds;
    }

    /** The data a baseline was measured on: its file and size. */
    static String dataKey(Path data) throws IOException {
        return data.toAbsolutePath() + " " + Files.size(data);
    }

    /**
     * The tiny run of {@code method}, on the first lines of {@code data}, in a directory under {@code dir}, which it
     * returns.
     */
    private static Path measure(Path dir, Path model, String modelName, HardwareProfile machine, Path data, int seqLen,
                                int batchSize, String method) throws IOException, InterruptedException {
        List<String> lines;
        try (Stream<String> all = Files.lines(data)) {
            lines = all.filter(l -> !l.isBlank()).limit(SAMPLE + HELD_OUT).toList();
        }
        Path train = Files.write(dir.resolve("train.jsonl"), lines.subList(0, Math.min(SAMPLE, lines.size())));
        Path eval = lines.size() > SAMPLE ? Files.write(dir.resolve("eval.jsonl"), lines.subList(SAMPLE, lines.size()))
                : null;
        MethodSpec spec = MethodSpec.of(method, null, Map.of());
        ComparisonSpec comparison = new ComparisonSpec(model, modelName, train, eval, List.of(spec), STEPS, seqLen,
                batchSize, 1, dir.resolve("out"), machine, of(0, 0, 0, 0), null);
        Path run = comparison.runDir(spec.name());
        Files.createDirectories(run);
        int layers = dev.tailor.cost.CostBase.read(model, modelName).config().numLayers();
        byte[] job = MethodJob.of(comparison, spec, layers).bytes();
        AtomicFiles.write(run.resolve(Comparison.JOB), ch -> ch.write(ByteBuffer.wrap(job)));
        WorkerProcess.run(run, spec.name(), STEPS, 0, ProgressListener.NONE);
        return run;
    }

    /** The wall time of every update of the run in {@code dir}, in order, from its {@code metrics.jsonl}. */
    static List<Double> updateSeconds(Path dir) {
        List<Double> seconds = new ArrayList<>();
        for (JsonNode line : Comparison.metrics(dir)) {
            if (line.has("loss") && line.path("tokens_per_s").asDouble() > 0) {
                seconds.add(line.path("tokens").asDouble() / line.path("tokens_per_s").asDouble());
            }
        }
        return seconds;
    }

    /**
     * What {@code updates} (seconds each, in order) took beyond as many updates at the pace of the last
     * {@value #STEADY} (their median); 0 when there are too few to tell.
     */
    static double warmup(List<Double> updates) {
        if (updates.size() < 2 * STEADY) {
            return 0;
        }
        double[] last = updates.subList(updates.size() - STEADY, updates.size()).stream().mapToDouble(Double::doubleValue)
                .sorted().toArray();
        double steady = last[STEADY / 2];
        return Math.max(0, updates.stream().mapToDouble(Double::doubleValue).sum() - updates.size() * steady);
    }

    private static Optional<RuntimeBaseline> read(Path file) {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            List<String> options = new ArrayList<>();
            n.path("jvm_options").forEach(o -> options.add(o.asText()));
            if (!n.path("outside_heap_bytes").isNumber() || !n.path("young_gen_bytes").isNumber()
                    || !n.path("warmup_seconds").isNumber() || !n.path("fine_tuning_warmup_seconds").isNumber()) {
                return Optional.empty();
            }
            return Optional.of(new RuntimeBaseline(n.path("outside_heap_bytes").asLong(),
                    n.path("young_gen_bytes").asLong(), n.path("warmup_seconds").asDouble(),
                    n.path("fine_tuning_warmup_seconds").asDouble(), n.path("java").asText(),
                    options, n.path("cpu").asText(), n.path("seq_len").asInt(), n.path("batch_size").asInt(),
                    n.path("data").asText(), n.path("measured_at").asText()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void write(Path file, RuntimeBaseline b) {
        ObjectNode n = JSON.createObjectNode();
        n.put("outside_heap_bytes", b.outsideHeapBytes()).put("young_gen_bytes", b.youngGenBytes())
                .put("warmup_seconds", b.warmupSeconds())
                .put("fine_tuning_warmup_seconds", b.fineTuningWarmupSeconds()).put("java", b.java()).put("cpu", b.cpu())
                .put("seq_len", b.seqLen()).put("batch_size", b.batchSize()).put("data", b.data())
                .put("measured_at", b.measuredAt());
        ArrayNode options = n.putArray("jvm_options");
        b.jvmOptions().forEach(options::add);
        try {
            byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n);
            AtomicFiles.write(file, ch -> ch.write(ByteBuffer.wrap(bytes)));
        } catch (IOException | RuntimeException e) {
            // not cached: measured again next time
        }
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
