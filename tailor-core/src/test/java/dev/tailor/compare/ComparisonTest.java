package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.cost.CostBase;
import dev.tailor.cost.CostEstimate;
import dev.tailor.cost.CostModel;
import dev.tailor.cost.CostSettings;
import dev.tailor.cost.HardwareProfile;
import dev.tailor.cost.Precision;
import dev.tailor.train.optim.OptimizerType;
import dev.tailor.cost.TestKernels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A comparison on the shared tiny Llama and a small classification set: each method really trains in its own
 * process, its numbers are the run's (parameters as trained and as the cost model counts them, artifact bytes as on
 * disk, a finite loss for every update, errors worked out from the two numbers they compare), and a comparison stopped
 * half-way resumes without training a finished method again.
 */
class ComparisonTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A profile with round figures and kernel times, so the test does not measure the machine. */
    static final HardwareProfile MACHINE = TestKernels.profile(TestKernels.machine());
    /**
     * The runtime's own memory with round figures, so the test does not measure it; its young generation is what a
     * worker's {@code -Xmn32m} ({@link WorkerProcess#YOUNG_GEN}) reads as (eden and a survivor space, 24 + 4 MiB), so
     * the heap cap leaves the old generation no more room than predicted.
     */
    static final RuntimeBaseline RUNTIME = RuntimeBaseline.of(90L << 20, 28L << 20, 0.75, 1.25);

    @TempDir
    Path dir;
    Path model;
    Path train;
    Path eval;

    @BeforeEach
    void tinyModelAndData() throws Exception {
        model = Shared.require("models/tiny-llama");
        train = classification(dir.resolve("train.jsonl"), 48, 0);
        eval = classification(dir.resolve("eval.jsonl"), 8, 1000);
    }

    /** {@code n} short reviews labelled {@code good} or {@code bad}. */
    static Path classification(Path file, int n, int from) throws Exception {
        String[] good = {"a fine and warm film", "great acting, loved it", "wonderful story", "I would watch again"};
        String[] bad = {"dull and far too long", "the plot made no sense", "a waste of an evening", "poorly acted"};
        List<String> lines = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            boolean positive = i % 2 == 0;
            String text = (positive ? good : bad)[i / 2 % 4] + " (review " + i + ")";
            lines.add(JSON.writeValueAsString(Map.of("text", text, "label", positive ? "good" : "bad")));
        }
        return Files.write(file, lines);
    }

    ComparisonSpec spec(List<String> methods, int steps) {
        List<MethodSpec> specs = methods.stream().map(m -> MethodSpec.of(m, null, Map.of())).toList();
        return new ComparisonSpec(model, "tiny-llama", train, eval, specs, steps, 32, 2, 7, dir.resolve("out"), MACHINE,
                RUNTIME, null);
    }

    @Test
    void eachMethodIsTrainedInItsOwnProcessAndItsNumbersAreTheRunsOwn() throws Exception {
        ComparisonSpec spec = spec(List.of("lora", "prompt"), 3);
        List<String> events = new ArrayList<>();
        ComparisonResult result = Comparison.run(spec, new ProgressListener() {
            @Override
            public void started(int index, int count, String method, long steps) {
                events.add("start " + method);
            }

            @Override
            public void finished(int index, int count, MethodRun run, boolean reused) {
                events.add((reused ? "reused " : "done ") + run.method());
            }
        });
        assertEquals(List.of("start lora", "done lora", "start prompt", "done prompt"), events);
        assertEquals(2, result.runs().size());
        CostBase base = CostBase.read(model, "tiny-llama");
        DataFootprint data = DataFootprint.of(MethodJob.of(spec, spec.methods().getFirst(), 2).trainingSpec().data(),
                model);
        assertTrue(data.lossShare() > 0.02 && data.lossShare() < 0.5, "only the labels carry a loss: "
                + data.lossShare());
        assertTrue(data.heldBytes() > 0, "the tokenizer and the data take heap");
        long weightFiles = Files.size(model.resolve("model.safetensors"));
        for (MethodRun r : result.runs()) {
            Path runDir = spec.runDir(r.method());
            CostEstimate e = CostModel.estimate(base, MethodSpec.of(r.method(), null, Map.of()).method(2),
                    CostSettings.defaults(MACHINE).withShape(32, 2).withTokens(r.tokens())
                            .withLossShare(r.predicted().lossShare()));
            assertEquals(e.trainableParameters(), r.trainableParameters(), r.method() + ": trained as counted");
            assertTrue(r.trainableParameters() > 0 && r.trainableParameters() < base.parameters() / 10, r.method());
            long onDisk = Files.size(runDir.resolve("adapter_model.safetensors"))
                    + Files.size(runDir.resolve("adapter_config.json"));
            assertEquals(onDisk, r.artifactBytes(), r.method() + ": the adapter's two files");
            assertEquals(e.artifactBytes(), r.predicted().artifactBytes());
            assertEquals(3, r.steps());
            assertEquals(0, r.resumedFrom());
            assertEquals(List.of(1L, 2L, 3L), r.losses().stream().map(MethodRun.LossPoint::step).toList());
            r.losses().forEach(p -> assertTrue(Double.isFinite(p.loss()) && p.loss() > 0, r.method() + ": " + p));
            assertEquals(r.losses().getLast().loss(), r.trainLoss(), 1e-12);
            assertTrue(Double.isFinite(r.evalLoss()) && r.evalLoss() > 0, r.method());
            assertTrue(r.evalAccuracy() >= 0 && r.evalAccuracy() <= 1, r.method());
            assertEquals(3L * 2 * 32, r.tokens(), r.method() + ": every update's two sequences of 32");
            assertTrue(r.trainSeconds() > 0 && r.measured().processSeconds() > r.trainSeconds(), r.method());
            assertEquals(data.lossShare(), r.predicted().lossShare(), 1e-12, r.method() + ": the share of the data");
            assertEquals(e.time().seconds() + 0.75, r.predicted().seconds(), 1e-9 * e.time().seconds());
            assertEquals(0.75, r.predicted().warmupSeconds());
            CostSettings atUtilisation = new CostSettings(32, 2, 1, r.tokens(), null, Precision.F32, Precision.F32,
                    false, OptimizerType.ADAMW, null, MACHINE, null, 0.5, 1, r.predicted().lossShare());
            assertTrue(Math.abs(CostModel.estimate(base, MethodSpec.of(r.method(), null, Map.of()).method(2),
                    atUtilisation).time().seconds() - e.time().seconds()) > 0.01 * e.time().seconds(),
                    r.method() + ": priced from the kernels, not at a utilisation of the peak");
            Measurement.MemoryParts parts = r.measured().memory();
            CostEstimate everyRow = CostModel.estimate(base, MethodSpec.of(r.method(), null, Map.of()).method(2),
                    CostSettings.defaults(MACHINE).withShape(32, 2).withTokens(r.tokens()));
            assertTrue(everyRow.time().seconds() > e.time().seconds(), r.method() + ": logits for every row cost more");
            assertEquals(100 * (r.predicted().seconds() - r.trainSeconds()) / r.trainSeconds(), r.timeErrorPercent(),
                    1e-9);
            assertTrue(r.measured().startRssBytes() > 0 && r.peakRssBytes() > r.measured().startRssBytes(), r.method());
            long live = e.memory().total() - e.memory().frozenInPlace() + r.predicted().dataBytes();
            assertEquals(live, r.predicted().liveBytes());
            assertEquals(Math.max(16L << 20, live / 2), r.predicted().headroomBytes(), "the old generation's room");
            assertEquals(RUNTIME.outsideHeapBytes() + RUNTIME.youngGenBytes() + live + r.predicted().headroomBytes()
                    + weightFiles, r.predicted().peakBytes());
            assertTrue(parts.oldPeakBytes() <= r.predicted().oldBytes(), r.method() + ": the old generation stays "
                    + "within the heap's cap");
            assertTrue(e.memory().frozenInPlace() > 0.9 * weightFiles, r.method() + ": the frozen matrices are read in "
                    + "place");
            assertTrue(parts.youngPeakBytes() > 0 && parts.oldPeakBytes() > 0, parts.toString());
            assertTrue(parts.mappedBytes() > weightFiles / 2, parts.toString());
            assertEquals(100.0 * (r.predicted().peakBytes() - r.peakRssBytes()) / r.peakRssBytes(),
                    r.memoryErrorPercent(), 1e-9);
            JsonNode saved = JSON.readTree(runDir.resolve("result.json").toFile());
            assertEquals(r.trainableParameters(), saved.path("measured").path("trainable_parameters").asLong());
            assertEquals(r.timeErrorPercent(), saved.path("error_percent").path("time").asDouble(), 1e-9);
        }
        assertEquals(2L * 8 * ((64 + 64) + (64 + 32)), result.runs().getFirst().trainableParameters(),
                "r 8 on q_proj (64 -> 64) and v_proj (64 -> 32) of 2 layers");
    }

    @Test
    void aComparisonStoppedHalfWayResumesWithoutTrainingAFinishedMethodAgain() throws Exception {
        ComparisonSpec spec = spec(List.of("ia3", "lora"), 100);
        RuntimeException stop = new IllegalStateException("stopped by the test");
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> Comparison.run(spec,
                new ProgressListener() {
                    @Override
                    public void step(String method, long step, long steps, double loss) {
                        if (method.equals("lora") && step > 10) {
                            throw stop;
                        }
                    }
                }));
        assertEquals(stop, thrown);
        Path ia3 = spec.runDir("ia3").resolve("result.json");
        Path lora = spec.runDir("lora");
        assertTrue(Files.exists(ia3));
        assertFalse(Files.exists(lora.resolve("result.json")), "lora was stopped before its end");
        assertTrue(Files.isDirectory(lora.resolve("training_state")), "lora left a checkpoint");
        FileTime ia3Written = Files.getLastModifiedTime(ia3);
        FileTime ia3Adapter = Files.getLastModifiedTime(spec.runDir("ia3").resolve("adapter_model.safetensors"));

        List<String> events = new ArrayList<>();
        ComparisonResult result = Comparison.run(spec, new ProgressListener() {
            @Override
            public void started(int index, int count, String method, long steps) {
                events.add("start " + method);
            }

            @Override
            public void finished(int index, int count, MethodRun run, boolean reused) {
                events.add((reused ? "reused " : "done ") + run.method());
            }
        });
        assertEquals(List.of("reused ia3", "start lora", "done lora"), events);
        assertEquals(ia3Written, Files.getLastModifiedTime(ia3), "ia3's result was not written again");
        assertEquals(ia3Adapter, Files.getLastModifiedTime(spec.runDir("ia3").resolve("adapter_model.safetensors")));
        MethodRun resumed = result.runs().get(1);
        assertTrue(resumed.resumedFrom() >= 10 && resumed.resumedFrom() < 100, "resumed from its checkpoint at "
                + resumed.resumedFrom());
        assertEquals(100, resumed.losses().size(), "the loss of every update, before and after the stop");
        long after = 0;
        for (String line : Files.readAllLines(lora.resolve("metrics.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            after += n.path("step").asLong() > resumed.resumedFrom() ? n.path("tokens").asLong() : 0;
        }
        assertEquals(after, resumed.tokens(), "the tokens of this process's updates (an epoch's last batch may be short)");
        try (Stream<String> log = Files.lines(lora.resolve("train.log"))) {
            assertTrue(log.anyMatch(l -> l.contains("resumed from checkpoint-")));
        }

        ComparisonSpec changed = new ComparisonSpec(model, "tiny-llama", train, eval, spec.methods(), 101, 32, 2, 7,
                spec.output(), MACHINE, RUNTIME, null);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> Comparison.run(changed, ProgressListener.NONE));
        assertTrue(refused.getMessage().contains("with other settings"), refused.getMessage());
    }

    /** A process's warm-up: its updates' time beyond as many at the pace of its last twenty (their median). */
    @Test
    void theWarmUpIsWhatTheFirstUpdatesTakeBeyondTheSteadyPace() {
        List<Double> updates = new ArrayList<>(List.of(2.0, 0.5, 0.3));
        for (int i = 0; i < 40; i++) {
            updates.add(i % 2 == 0 ? 0.1 : 0.12);
        }
        assertEquals(2.0 + 0.5 + 0.3 + 20 * 0.1 + 20 * 0.12 - 43 * 0.12, RuntimeBaseline.warmup(updates), 1e-9);
        assertEquals(0, RuntimeBaseline.warmup(List.of(1.0, 0.1)), "too few updates to tell");
        assertEquals(1.25, RUNTIME.warmupSeconds(MethodSpec.of("partial", null, Map.of()).method(2)), "fine-tuning's");
        assertEquals(0.75, RUNTIME.warmupSeconds(MethodSpec.of("ia3", null, Map.of()).method(2)), "an adapter's");
    }

    /**
     * The Java runtime's own memory and a fresh process's warm-up are measured once by a tiny training run in a child
     * process like a method's (its peak resident memory less its heap generations and the base's mapped pages; its
     * updates' time beyond their steady pace), and read back from the cache after for the same shape.
     */
    @Test
    void theRuntimesOwnMemoryAndWarmUpAreMeasuredOnceByATinyRunAndCached() throws Exception {
        Path cache = dir.resolve("cache");
        List<String> notes = new ArrayList<>();
        RuntimeBaseline b = RuntimeBaseline.of(cache, model, "tiny-llama", MACHINE, train, 32, 2, false, notes::add);
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(b.outsideHeapBytes() > (16L << 20) && b.outsideHeapBytes() < (1L << 30), b.toString());
        assertEquals(WorkerProcess.jvmOptions(), b.jvmOptions());
        assertTrue(b.jvmOptions().stream().anyMatch(o -> o.startsWith("-Xmn")), b.jvmOptions().toString());
        assertTrue(b.youngGenBytes() >= (16L << 20) && b.youngGenBytes() <= (256L << 20), b.toString());
        try (Stream<Path> left = Files.list(cache)) {
            assertEquals(List.of(cache.resolve(RuntimeBaseline.FILE)), left.toList(), "the tiny run's files are gone");
        }
        assertTrue(b.warmupSeconds() > 0 && b.fineTuningWarmupSeconds() > 0, "the first updates run before the "
                + "compiler is done: " + b);
        assertEquals(b, RuntimeBaseline.of(cache, model, "tiny-llama", MACHINE, train, 32, 2, false, notes::add));
        assertEquals(1, notes.size(), "read from the cache");
    }

    /** The data is loaded (to predict) before any method trains, so bad data is refused first, naming its line. */
    @Test
    void badDataIsRefusedNamingItsLineBeforeAnyMethodTrains() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"text\": \"fine\", \"label\": \"a\"}\n{\"text\": 3}\n");
        ComparisonSpec spec = new ComparisonSpec(model, "tiny-llama", bad, null,
                List.of(MethodSpec.of("lora", null, Map.of())), 2, 32, 2, 7, dir.resolve("bad-out"), MACHINE, RUNTIME,
                null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Comparison.run(spec, ProgressListener.NONE));
        assertTrue(e.getMessage().contains("bad.jsonl:2"), e.getMessage());
        assertFalse(Files.exists(spec.runDir("lora").resolve(Comparison.JOB)), "nothing trained");
    }
}
