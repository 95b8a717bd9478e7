package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.cost.CostBase;
import dev.tailor.cost.CostEstimate;
import dev.tailor.cost.CostModel;
import dev.tailor.cost.CostSettings;
import dev.tailor.cost.MachineCalibration;
import dev.tailor.cost.Precision;
import dev.tailor.io.AtomicFiles;
import dev.tailor.train.TrainingMethod;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.TokenizerException;
import dev.tailor.train.data.DataFormatException;
import dev.tailor.train.data.JsonLines;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Runs a comparison: every method trained in turn, each in a process of its own ({@link MethodWorker}) into
 * {@code output/runs/<method>/}, measured, and set beside the cost model's prediction of the same run.
 *
 * <p>It resumes: a method whose {@code result.json} is there is not trained again, one that stopped half-way resumes
 * from its last checkpoint, one whose process finished but whose result was not written yet is only read. Each
 * method's directory keeps the {@code job.json} it ran with; a rerun with other settings is refused rather than mixed
 * with it.
 */
public final class Comparison {
    static final String JOB = "job.json";
    static final String RESULT = "result.json";
    static final String METRICS = "metrics.jsonl";
    /** What a method's directory holds besides the files its training saved. */
    private static final Set<String> NOT_ARTIFACT = Set.of(JOB, RESULT, METRICS, MethodWorker.MEASUREMENT,
            WorkerProcess.LOG, "training_state");
    private static final ObjectMapper JSON = new ObjectMapper();

    private Comparison() {
    }

    /**
     * Runs {@code spec}, telling {@code listener} how it goes, and returns every method's result (the reports are
     * {@link ReportWriter}'s).
     *
     * @throws dev.tailor.adapt.InvalidOptionException naming an option of a method whose value is wrong
     * @throws IllegalArgumentException                naming what is wrong with the base, the data or the output, or
     *                                                 the method whose training refused its input
     * @throws IllegalStateException                   naming the method whose training failed
     */
    public static ComparisonResult run(ComparisonSpec spec, ProgressListener listener)
            throws IOException, InterruptedException {
        JsonLines.requireReadableFile(spec.trainData());
        if (spec.evalData() != null) {
            JsonLines.requireReadableFile(spec.evalData());
        }
        CostBase base = CostBase.read(spec.model(), spec.modelName());
        int layers = base.config().numLayers();
        List<MethodJob> jobs = new ArrayList<>();
        for (MethodSpec m : spec.methods()) {
            estimate(base, m.method(layers), spec, 1, 1);
            MethodJob job = MethodJob.of(spec, m, layers);
            checkSameSettings(spec.runDir(m.name()), job);
            jobs.add(job);
        }
        DataFootprint data;
        try {
            data = DataFootprint.of(jobs.getFirst().trainingSpec().data(), spec.model());
        } catch (DataFormatException | TokenizerException | ChatTemplateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        long weightFiles = weightFileBytes(spec.model());
        List<MethodRun> runs = new ArrayList<>();
        int count = jobs.size();
        for (int i = 0; i < count; i++) {
            MethodSpec m = spec.methods().get(i);
            MethodJob job = jobs.get(i);
            Path dir = spec.runDir(m.name());
            Path result = dir.resolve(RESULT);
            if (Files.exists(result)) {
                MethodRun run = MethodRun.of(JSON.readTree(result.toFile()));
                listener.finished(i, count, run, true);
                runs.add(run);
                continue;
            }
            Files.createDirectories(dir);
            if (!Files.exists(dir.resolve(MethodWorker.MEASUREMENT))) {
                write(dir.resolve(JOB), job.bytes());
                listener.started(i, count, m.name(), spec.steps());
                Prediction before = Prediction.of(estimate(base, m.method(layers), spec, spec.tokens(),
                        data.lossShare()), m.method(layers), data, weightFiles, spec.runtime());
                WorkerProcess.run(dir, m.name(), spec.steps(), before.heapBytes(), listener);
            }
            MethodRun run = result(spec, base, m, job, dir, layers, data, weightFiles);
            write(result, Reports.pretty(run.json()));
            listener.finished(i, count, run, false);
            runs.add(run);
        }
        return new ComparisonResult(settings(spec, base), spec.machine(), List.copyOf(runs), project(spec),
                new ComparisonResult.Environment(Runtime.getRuntime().availableProcessors(),
                        System.getProperty("java.version"), WorkerProcess.jvmOptions(), Instant.now().toString()));
    }

    /** A method's directory may only hold a run of the same job. */
    private static void checkSameSettings(Path dir, MethodJob job) throws IOException {
        Path previous = dir.resolve(JOB);
        if (Files.exists(previous) && !MethodJob.parse(Files.readAllBytes(previous)).key().equals(job.key())) {
            throw new IllegalArgumentException(dir + " holds a run of " + job.method() + " with other settings "
                    + "(model, data, options, budget or seed); use another output directory, or delete it to run "
                    + job.method() + " again");
        }
    }

    /** The result of the method whose process has finished in {@code dir}. */
    private static MethodRun result(ComparisonSpec spec, CostBase base, MethodSpec m, MethodJob job, Path dir,
                                    int layers, DataFootprint data, long weightFiles) throws IOException {
        Measurement measured = Measurement.of(JSON.readTree(dir.resolve(MethodWorker.MEASUREMENT).toFile()));
        TrainingMethod method = m.method(layers);
        CostEstimate e = estimate(base, method, spec, measured.tokens(), data.lossShare());
        Prediction predicted = Prediction.of(e, method, data, weightFiles, spec.runtime());
        List<MethodRun.LossPoint> losses = new ArrayList<>();
        for (JsonNode line : metrics(dir)) {
            if (line.has("loss")) {
                losses.add(new MethodRun.LossPoint(line.path("step").asLong(), line.path("loss").asDouble()));
            }
        }
        return new MethodRun(m.name(), e.description(), job.key(), m.lr(), e.totalParameters(), measured,
                artifactBytes(dir), List.copyOf(losses), predicted, MachineCalibration.loadAverage(),
                updates(dir));
    }

    /**
     * The cost model's estimate of {@code method} trained on {@code tokens} tokens of {@code spec} on its machine,
     * {@code lossShare} of them carrying a loss.
     */
    static CostEstimate estimate(CostBase base, TrainingMethod method, ComparisonSpec spec, long tokens,
                                 double lossShare) {
        CostSettings settings = CostSettings.defaults(spec.machine()).withShape(spec.seqLen(), spec.batchSize())
                .withTokens(tokens).withLossShare(lossShare);
        return CostModel.estimate(base, method, settings);
    }

    /** What the updates of the run in {@code dir} took beyond their steady pace, or NaN when too few to tell. */
    private static double updates(Path dir) {
        List<Double> seconds = RuntimeBaseline.updateSeconds(dir);
        return seconds.size() >= 2 * RuntimeBaseline.STEADY ? RuntimeBaseline.warmup(seconds) : Double.NaN;
    }

    /** The bytes of the base's weight files ({@code *.safetensors} in its directory), which a run maps and reads. */
    static long weightFileBytes(Path model) throws IOException {
        long sum = 0;
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.toList()) {
                if (f.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(f)) {
                    sum += Files.size(f);
                }
            }
        }
        return sum;
    }

    /** The methods priced on the projection's machine and model, BF16 activations and F32 trainable weights. */
    private static ComparisonResult.ProjectionResult project(ComparisonSpec spec) {
        ComparisonSpec.Projection p = spec.projection();
        if (p == null) {
            return null;
        }
        CostSettings settings = CostSettings.defaults(p.hardware()).withShape(spec.seqLen(), spec.batchSize())
                .withTokens(p.tokens()).withPrecisions(null, Precision.F32, Precision.BF16);
        List<ComparisonResult.Projected> methods = new ArrayList<>();
        for (MethodSpec m : spec.methods()) {
            CostEstimate e = CostModel.estimate(p.base(), m.method(p.base().config().numLayers()), settings);
            methods.add(new ComparisonResult.Projected(m.name(), e.trainableParameters(), e.memory().total(),
                    e.memory().fits(), e.time().seconds(), e.time().money(), e.artifactBytes()));
        }
        return new ComparisonResult.ProjectionResult(p.hardware(), p.base().name(), p.base().parameters(), p.tokens(),
                List.copyOf(methods));
    }

    private static ComparisonResult.Settings settings(ComparisonSpec spec, CostBase base) {
        return new ComparisonResult.Settings(spec.modelName(), base.parameters(), base.config().numLayers(),
                base.config().hiddenSize(), spec.trainData().toString(),
                spec.evalData() == null ? null : spec.evalData().toString(), spec.steps(), spec.seqLen(),
                spec.batchSize(), spec.seed());
    }

    /** The bytes of what a method's training saved: every file of its directory but the comparison's own. */
    static long artifactBytes(Path dir) throws IOException {
        long sum = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (!NOT_ARTIFACT.contains(f.getFileName().toString()) && Files.isRegularFile(f)) {
                    sum += Files.size(f);
                }
            }
        }
        return sum;
    }

    /** The lines of {@code dir/metrics.jsonl} that parse (the last may be half-written while training runs). */
    static List<JsonNode> metrics(Path dir) {
        List<JsonNode> lines = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(dir.resolve(METRICS), StandardCharsets.UTF_8)) {
                try {
                    lines.add(JSON.readTree(line));
                } catch (IOException e) {
                    // a line being written
                }
            }
        } catch (NoSuchFileException e) {
            return lines;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(dir.resolve(METRICS) + ": " + e.getMessage(), e);
        }
        return lines;
    }

    private static void write(Path file, byte[] bytes) throws IOException {
        AtomicFiles.write(file, ch -> ch.write(ByteBuffer.wrap(bytes)));
    }
}
