package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.cost.HardwareProfile;
import dev.tailor.cost.MachineCalibration;
import dev.tailor.io.AtomicFiles;

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
 * What a comparison's training process holds beyond its heap and the base's mapped weights — the Java runtime's own
 * memory: its code and class metadata, the compiled code, the collector's tables, thread stacks, the native
 * allocator's arenas — and the most its young generation may take. Measured once on this machine by a child process
 * exactly like a method's ({@link WorkerProcess}: the same Java, options and worker) training a tiny LoRA run on the
 * base (30 updates of 2 sequences of 32 tokens of a small classification set, evaluated), as its peak resident memory
 * less its heap generations' peaks and the base's resident mapped pages; then cached beside the machine's kernel
 * times, for this Java, these options and this processor.
 *
 * @param outsideHeapBytes the runtime's own memory outside the heap
 * @param youngGenBytes    the most the young generation may take (the {@code -Xmn} the children run with)
 * @param java             the Java runtime's version it was measured with
 * @param jvmOptions       the children's options it was measured with
 * @param cpu              the processor
 * @param measuredAt       when
 */
public record RuntimeBaseline(long outsideHeapBytes, long youngGenBytes, String java, List<String> jvmOptions,
                              String cpu, String measuredAt) {
    static final String FILE = MachineCalibration.NAME + "-runtime.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int STEPS = 30;

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
    public static RuntimeBaseline of(Path cacheDir, Path model, String modelName, HardwareProfile machine,
                                     boolean remeasure, Consumer<String> notes)
            throws IOException, InterruptedException {
        Path file = cacheDir.resolve(FILE);
        String java = System.getProperty("java.version");
        List<String> options = WorkerProcess.jvmOptions();
        String cpu = machine.description();
        if (!remeasure) {
            Optional<RuntimeBaseline> cached = read(file);
            if (cached.isPresent() && cached.get().java().equals(java) && cached.get().jvmOptions().equals(options)
                    && cached.get().cpu().equals(cpu)) {
                return cached.get();
            }
        }
        notes.accept("measuring the Java runtime's own memory with a tiny training run (once, then cached in "
                + file + ")...");
        Files.createDirectories(cacheDir);
        Path dir = Files.createTempDirectory(cacheDir, "runtime-");
        try {
            Measurement m = measure(dir, model, modelName, machine);
            RuntimeBaseline b = new RuntimeBaseline(m.memory().outsideHeap(m.peakRssBytes()), m.youngGenBytes(), java,
                    options, cpu, Instant.now().toString());
            write(file, b);
            return b;
        } finally {
            delete(dir);
        }
    }

    /** The tiny run in {@code dir}: its process's measurement. */
    private static Measurement measure(Path dir, Path model, String modelName, HardwareProfile machine)
            throws IOException, InterruptedException {
        Path train = classification(dir.resolve("train.jsonl"), 64, 0);
        Path eval = classification(dir.resolve("eval.jsonl"), 8, 64);
        MethodSpec lora = MethodSpec.of("lora", null, Map.of());
        ComparisonSpec spec = new ComparisonSpec(model, modelName, train, eval, List.of(lora), STEPS, 32, 2, 1,
                dir.resolve("out"), machine, new RuntimeBaseline(0, 0, "", List.of(), "", ""), null);
        Path run = spec.runDir(lora.name());
        Files.createDirectories(run);
        int layers = dev.tailor.cost.CostBase.read(model, modelName).config().numLayers();
        byte[] job = MethodJob.of(spec, lora, layers).bytes();
        AtomicFiles.write(run.resolve(Comparison.JOB), ch -> ch.write(ByteBuffer.wrap(job)));
        WorkerProcess.run(run, lora.name(), STEPS, ProgressListener.NONE);
        return Measurement.of(JSON.readTree(run.resolve(MethodWorker.MEASUREMENT).toFile()));
    }

    /** {@code n} short texts labelled {@code yes} or {@code no}, from the {@code from}-th. */
    private static Path classification(Path file, int n, int from) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            lines.add(JSON.writeValueAsString(Map.of("text", "message " + i + " about " + (i % 2 == 0 ? "a meeting"
                    : "a prize you have won"), "label", i % 2 == 0 ? "no" : "yes")));
        }
        return Files.write(file, lines);
    }

    private static Optional<RuntimeBaseline> read(Path file) {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            List<String> options = new ArrayList<>();
            n.path("jvm_options").forEach(o -> options.add(o.asText()));
            if (!n.path("outside_heap_bytes").isNumber() || !n.path("young_gen_bytes").isNumber()) {
                return Optional.empty();
            }
            return Optional.of(new RuntimeBaseline(n.path("outside_heap_bytes").asLong(),
                    n.path("young_gen_bytes").asLong(), n.path("java").asText(), options, n.path("cpu").asText(),
                    n.path("measured_at").asText()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void write(Path file, RuntimeBaseline b) {
        ObjectNode n = JSON.createObjectNode();
        n.put("outside_heap_bytes", b.outsideHeapBytes()).put("young_gen_bytes", b.youngGenBytes())
                .put("java", b.java()).put("cpu", b.cpu()).put("measured_at", b.measuredAt());
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
