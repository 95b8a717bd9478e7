package dev.tailor.train;

import dev.tailor.Shared;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.MethodOption;
import dev.tailor.adapt.MethodOptions;
import dev.tailor.adapt.MethodVariant;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.Parameter;
import dev.tailor.tokenizer.Tokenizers;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import dev.tailor.train.optim.OptimizerType;
import dev.tailor.train.optim.ScheduleType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The resume contract of every registered adapter method's every variant, on the shared tiny Llama: a run resumed
 * with any of the method's options changed is refused, because the run's {@link TrainingRun#identity identity}
 * changes, and the saved adapter config records the change (or the changed option makes the very same adapter, with
 * the same tensors and the same training gradients).
 * <p>
 * Each option's changed value is derived from its kind and its value in the unchanged run (a whole number +1, +2,
 * −1, ×2 or ÷2, a number ×2 or ÷2, a switch toggled), the first the method accepts; options of text or list values, and those
 * without a value to derive from, take theirs from {@link #ALTERNATIVES}, keyed by option name. A registered option
 * with no alternative fails the test, so a new method's options must be added there.
 */
class MethodResumeContractTest {
    /**
     * Per option name: options given in both runs (what the option needs to matter) and candidate changed values,
     * tried after the derived ones.
     */
    private static final Map<String, Alternative> ALTERNATIVES = Map.ofEntries(
            Map.entry("target_modules", new Alternative(Map.of(), "q_proj")),
            Map.entry("feedforward_modules", new Alternative(
                    Map.of("target_modules", List.of("k_proj,v_proj,down_proj,up_proj")), "up_proj")),
            Map.entry("layers_to_transform", new Alternative(Map.of(), "0")),
            Map.entry("bias", new Alternative(Map.of(), "all")),
            Map.entry("init_lora_weights", new Alternative(Map.of(), "gaussian")),
            Map.entry("rank_pattern", new Alternative(Map.of(), "q_proj=4")),
            Map.entry("alpha_pattern", new Alternative(Map.of(), "q_proj=4")),
            Map.entry("non_linearity", new Alternative(Map.of(), "swish", "relu")),
            Map.entry("reduction_factor", new Alternative(Map.of(), "8")),
            Map.entry("encoder_hidden_size", new Alternative(Map.of("prefix_projection", List.of("true")), "32")),
            Map.entry("prompt_tuning_init", new Alternative(
                    Map.of("prompt_tuning_init_text", List.of("Call me Ishmael.")), "TEXT")),
            Map.entry("prompt_tuning_init_text", new Alternative(Map.of("prompt_tuning_init", List.of("TEXT"),
                    "prompt_tuning_init_text", List.of("Call me Ishmael.")), "It was the best of times.")));
    private static final long SEED = 42;
    /** One example of the tiny Llama's vocabulary. */
    private static final PackedSequence SEQ = new PackedSequence(new int[]{1, 450, 4996, 17354, 1701, 432, 17204},
            new int[]{CausalLmLoss.IGNORE_INDEX, 450, 4996, 17354, 1701, 432, 17204}, new int[]{0, 1, 2, 3, 4, 5, 6},
            new int[7]);

    private static Path modelDir;
    private static LlamaModel model;
    private static AdapterBase base;

    @TempDir
    static Path dir;
    private static Path data;

    /**
     * How to change an option: the options both runs give, and candidate values.
     *
     * @param context    given in the unchanged and the changed run
     * @param candidates changed values to try, in order
     */
    record Alternative(Map<String, List<String>> context, List<String> candidates) {
        Alternative(Map<String, List<String>> context, String... candidates) {
            this(context, List.of(candidates));
        }
    }

    /**
     * One option of a variant changed.
     *
     * @param option    the option
     * @param unchanged the options of the unchanged run (fitting options and the alternative's context)
     * @param changed   those with the option changed
     */
    record Change(MethodOption option, Map<String, List<String>> unchanged, Map<String, List<String>> changed) {
        @Override
        public String toString() {
            return option.name() + " " + unchanged.get(option.name()) + " -> " + changed.get(option.name());
        }
    }

    @BeforeAll
    static void open() throws IOException {
        modelDir = Shared.require("models/tiny-llama");
        model = LlamaModel.load(modelDir);
        base = new AdapterBase(model.config(), model.weights(), Tokenizers.load(modelDir), "tiny-llama");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            lines.add("{\"text\": \"The whale " + (i % 3) + " swims in the sea, the sea, the wide grey sea.\"}");
        }
        data = Files.write(dir.resolve("data.jsonl"), lines);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    static Stream<MethodVariant> variants() {
        return MethodVariant.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void everyChangedOptionChangesTheIdentityAndTheSavedConfig(MethodVariant variant) {
        for (MethodOption option : variant.method().options()) {
            Change change = change(variant, option);
            Adapter unchanged = variant.create(base, change.unchanged(), SEED);
            Adapter changed = variant.create(base, change.changed(), SEED);
            assertNotEquals(TrainingRun.identity(spec(variant, change.unchanged(), 4, 2, false), unchanged),
                    TrainingRun.identity(spec(variant, change.changed(), 4, 2, false), changed),
                    variant + ": the resume identity must change with " + change);
            if (unchanged.config(null).equals(changed.config(null))) {
                assertSameTraining(variant, change, unchanged, changed);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void resumingWithTheFirstOptionChangedIsRefusedAndUnchangedResumes(MethodVariant variant) throws IOException {
        Change change = change(variant, variant.method().options().getFirst());
        Path out = dir.resolve("resume-" + variant);
        assertRefusedThenResumed(variant, change.unchanged(), change.changed(), out, 4, 2);
    }

    /**
     * The reported case: {@code tailor train --method seq_bn --non-linearity relu --steps 10 --save-every 3}, the last
     * checkpoint deleted, then the same with {@code --non-linearity swish --resume}.
     */
    @Test
    void bottleneckResumedWithAnotherNonLinearityIsRefused() throws IOException {
        MethodVariant seqBn = MethodVariant.all().filter(v -> v.name().equals("seq_bn")).findFirst().orElseThrow();
        assertRefusedThenResumed(seqBn, Map.of("non_linearity", List.of("relu")),
                Map.of("non_linearity", List.of("swish")), dir.resolve("seq-bn-relu"), 10, 3);
    }

    /**
     * Trains {@code unchanged} for {@code steps} with a checkpoint every {@code saveEvery}, deletes the last
     * checkpoint, asserts that resuming with {@code changed} is refused and that resuming {@code unchanged} continues
     * from the checkpoint before.
     */
    private void assertRefusedThenResumed(MethodVariant variant, Map<String, List<String>> unchanged,
                                          Map<String, List<String>> changed, Path out, int steps, int saveEvery)
            throws IOException {
        run(spec(variant, unchanged, steps, saveEvery, false, out));
        Path checkpoints = out.resolve("training_state");
        try (Stream<Path> list = Files.list(checkpoints)) {
            List<Path> all = list.sorted().toList();
            Path last = checkpoints.resolve("checkpoint-" + steps);
            assertTrue(all.contains(last), "checkpoints: " + all);
            try (Stream<Path> files = Files.walk(last)) {
                files.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        var e = assertThrows(IllegalStateException.class, () -> run(spec(variant, changed, steps, saveEvery, true, out)),
                variant + ": resuming with " + changed + " instead of " + unchanged + " must be refused");
        assertTrue(e.getMessage().contains("another configuration"), e.getMessage());
        Trainer.Summary resumed = run(spec(variant, unchanged, steps, saveEvery, true, out));
        assertEquals((steps - 1) / saveEvery * saveEvery, resumed.resumedFrom(),
                variant + ": resumes from the checkpoint before the deleted one");
        assertEquals(steps, resumed.steps());
    }

    private static Trainer.Summary run(TrainingRun.Spec spec) throws IOException {
        return TrainingRun.run(spec, new PrintWriter(new StringWriter()), false);
    }

    private static TrainingRun.Spec spec(MethodVariant variant, Map<String, List<String>> given, int steps,
                                         int saveEvery, boolean resume) {
        return spec(variant, given, steps, saveEvery, resume, dir.resolve("unused"));
    }

    private static TrainingRun.Spec spec(MethodVariant variant, Map<String, List<String>> given, int steps,
                                         int saveEvery, boolean resume, Path out) {
        return new TrainingRun.Spec(new TrainingRun.Base.Pretrained(modelDir, "tiny-llama"),
                new DataConfig(data, null, null, 0, 32, 1, SEED, true, false),
                TrainingMethod.of(variant.name(), null, variant.given(base.config(), given)),
                new TrainOptions(steps, 0, 1, 1e-3, 0, ScheduleType.CONSTANT, 0, 1, OptimizerType.ADAMW, 0, saveEvery,
                        3, 1, false),
                out, null, resume);
    }

    /** {@code option} of {@code variant} changed: the first candidate value that differs and the method accepts. */
    private static Change change(MethodVariant variant, MethodOption option) {
        Alternative alternative = ALTERNATIVES.get(option.name());
        Map<String, List<String>> unchanged = variant.given(base.config(),
                alternative == null ? Map.of() : alternative.context());
        MethodOptions options = MethodOptions.of(variant.method().options(), unchanged);
        String current = option.kind() == MethodOption.Kind.LIST ? null : options.text(option.name());
        List<String> candidates = new ArrayList<>(derived(option.kind(), current));
        if (alternative != null) {
            candidates.addAll(alternative.candidates());
        }
        if (candidates.isEmpty()) {
            fail(variant + ": option " + option.name() + " (" + option.kind() + ") has no value to change to; add one to "
                    + "MethodResumeContractTest.ALTERNATIVES");
        }
        Change fallback = null;
        for (String candidate : candidates) {
            if (candidate.equals(current)) {
                continue;
            }
            Map<String, List<String>> changed = new LinkedHashMap<>(unchanged);
            changed.put(option.name(), List.of(candidate));
            Adapter adapter;
            try {
                adapter = variant.create(base, changed, SEED);
            } catch (IllegalArgumentException rejected) {
                continue;
            }
            Change change = new Change(option, unchanged, changed);
            if (!adapter.config(null).equals(variant.create(base, unchanged, SEED).config(null))) {
                return change;
            }
            fallback = fallback == null ? change : fallback;
        }
        if (fallback == null) {
            fail(variant + ": " + variant.name() + " accepts none of " + candidates + " for " + option.name()
                    + "; add a valid one to MethodResumeContractTest.ALTERNATIVES");
        }
        return fallback;
    }

    /** Values derived from an option's current value: empty when there is none, or for texts and lists. */
    private static List<String> derived(MethodOption.Kind kind, String current) {
        return switch (kind) {
            case INT -> {
                if (current == null) {
                    yield List.of();
                }
                int v = Integer.parseInt(current);
                yield Stream.of(v + 1, v + 2, v - 1, 2 * v, v / 2).filter(c -> c >= 1).map(String::valueOf).toList();
            }
            case DECIMAL -> {
                if (current == null) {
                    yield List.of();
                }
                double v = Double.parseDouble(current);
                yield v == 0 ? List.of("0.1") : List.of(String.valueOf(v * 2), String.valueOf(v / 2));
            }
            case FLAG, BOOLEAN -> List.of(String.valueOf(!Boolean.parseBoolean(current)));
            case TEXT, LIST -> List.of();
        };
    }

    /**
     * Asserts that two adapters with equal saved configs are the same adapter: the same tensors, and the same
     * gradients in a training pass (dropout included).
     */
    private static void assertSameTraining(MethodVariant variant, Change change, Adapter unchanged, Adapter changed) {
        List<Parameter> a = unchanged.savedTensors();
        List<Parameter> b = changed.savedTensors();
        assertEquals(a.size(), b.size(), variant + ": " + change + " leaves the config as it was but changes the tensors");
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).name(), b.get(i).name());
            assertArrayEquals(a.get(i).data(), b.get(i).data(), variant + ": " + change + " changes "
                    + a.get(i).name() + " but the saved config does not record it");
        }
        float[][] gradients = new float[2][];
        int k = 0;
        for (Adapter adapter : List.of(unchanged, changed)) {
            TrainableLlama trainable = TrainableLlama.create(model.config(), model.weights(), name -> false,
                    adapter.sites());
            trainable.forwardBackward(SEQ, 1f, 1);
            gradients[k++] = trainable.parameters().stream().map(Parameter::grad)
                    .reduce(new float[0], MethodResumeContractTest::concat);
        }
        assertArrayEquals(gradients[0], gradients[1], variant + ": " + change + " changes training but the saved "
                + "config does not record it");
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
