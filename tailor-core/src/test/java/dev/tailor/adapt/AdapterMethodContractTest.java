package dev.tailor.adapt;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.site.LinearSite;
import dev.tailor.tensor.Parameter;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import dev.tailor.train.optim.Optimizer;
import dev.tailor.train.optim.OptimizerType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract every registered adapter method keeps, checked for each variant of each method that
 * {@link AdapterMethods#all()} finds (so a new method is held to it by registering, without editing this test).
 * Each variant is made with its defaults and its {@link AdapterMethod#fittingOptions fitting options} on a tiny random
 * Qwen2-style model (hidden 32, q/k/v biases, 64-token vocabulary), then moved away from its initialisation (fresh
 * adapters are mostly the identity, which would make the comparisons below vacuous):
 * <ol>
 *   <li>its {@link AdapterMethod#shape shape}, worked out without making it, is the adapter made (tensors, config,
 *   saved bytes, sites), with its defaults and with the options of {@code SHAPE_OPTIONS};</li>
 *   <li>saving and {@link AdapterFiles#load loading} gives an adapter whose files re-save byte for byte and whose
 *   logits are the original's exactly;</li>
 *   <li>an adapter made only of {@link MergeableHook}s at linear sites merges into the base with the adapted
 *   logits and unmerges back to the base weights; any other adapter's merge is refused, saying why;</li>
 *   <li>the trainable tensors are exactly the adapter's, and the gradient of each agrees with central differences
 *   of the loss (for a variant listed as training with a surrogate gradient, such as DoRA's detached norm: it is a
 *   descent direction, and it does differ from the loss's);</li>
 *   <li>a fresh adapter trained for a few AdamW steps on a repetitive toy set lowers its loss.</li>
 * </ol>
 * The resume identity of a changed option is checked by {@code dev.tailor.train.MethodResumeContractTest}; the
 * registry's own consistency here.
 */
class AdapterMethodContractTest {
    private static final ModelConfig CONFIG = new ModelConfig("qwen2", 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, null, 64,
            64, false, true, false, 1, List.of(2));
    private static final LlamaWeights WEIGHTS = randomWeights(CONFIG, 1);
    private static final AdapterBase BASE = new AdapterBase(CONFIG, WEIGHTS, null, "tiny-random");
    /** Two packed examples of 7 and 5 tokens. */
    private static final PackedSequence SEQ = packed(new int[]{1, 17, 42, 8, 33, 5, 60, 1, 23, 9, 51, 12},
            new int[]{0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7});

    /**
     * Variants that train with a deliberate surrogate of the loss's gradient, and why. Their gradients are not compared
     * with central differences; instead the test asserts that they differ from them somewhere (so an entry cannot
     * outlive its reason) and that a small step against them lowers the loss.
     */
    private static final Map<String, String> SURROGATE_GRADIENTS = Map.of(
            "dora", "weight-norm-detached (PEFT holds DoRA's row norms constant in backward, DoRA paper §4.3)");

    static Stream<MethodVariant> variants() {
        return MethodVariant.all();
    }

    /** A fresh adapter of {@code variant} on the tiny model, every trainable value moved by up to ±0.3. */
    private static Adapter perturbed(MethodVariant variant) {
        Adapter adapter = variant.create(BASE, Map.of(), 7);
        AdapterChecks.perturb(adapter.parameters(), new SplittableRandom(11), 0.3);
        return adapter;
    }

    @Test
    void theRegistryIsConsistent(@TempDir Path dir) throws Exception {
        List<String> names = AdapterMethods.names();
        assertFalse(AdapterMethods.all().isEmpty(), "no adapter method is registered");
        assertEquals(names.size(), new HashSet<>(names).size(), "method names must be unique: " + names);
        List<String> types = AdapterMethods.peftTypes();
        assertEquals(types.size(), new HashSet<>(types).size(), "peft types must be unique: " + types);
        Map<String, MethodOption.Kind> kinds = new HashMap<>();
        for (AdapterMethod m : AdapterMethods.all()) {
            assertSame(m, AdapterMethods.byPeftType(m.peftType()));
            m.names().forEach(n -> {
                assertTrue(n.equals(n.toLowerCase(java.util.Locale.ROOT)), "method names are lower case: " + n);
                assertSame(m, AdapterMethods.byName(n));
            });
            Set<String> own = new HashSet<>();
            for (MethodOption o : m.options()) {
                assertTrue(o.name().matches("[a-z][a-z0-9]*(_[a-z0-9]+)*"), "option names are snake case: " + o.name());
                assertTrue(own.add(o.name()), m.names() + " declares " + o.name() + " twice");
                MethodOption.Kind earlier = kinds.putIfAbsent(o.name(), o.kind());
                assertTrue(earlier == null || earlier == o.kind(), "option " + o.name() + " is a " + earlier
                        + " in one method and a " + o.kind() + " in " + m.names());
            }
            assertDoesNotThrow(() -> MethodOptions.defaults(m.options()), m.names() + ": a default is not of its kind");
        }
        assertEquals(kinds.keySet(), Set.copyOf(AdapterMethods.options().stream().map(MethodOption::name).toList()));

        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\": \"NO_SUCH_METHOD\"}");
        var e = assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir));
        assertTrue(e.getMessage().contains("NO_SUCH_METHOD"), e.getMessage());
        for (String type : types) {
            assertTrue(e.getMessage().contains(type), "the error names every type read, " + type + " missing: "
                    + e.getMessage());
        }
    }

    /**
     * Options beyond the defaults under which a variant's {@link AdapterMethod#shape shape} is also checked: each
     * changes which tensors there are or what their shapes or names are.
     */
    private static final Map<String, List<Map<String, List<String>>>> SHAPE_OPTIONS = Map.of(
            "lora", List.of(Map.of("bias", List.of("all")), Map.of("bias", List.of("lora_only"),
                            "target_modules", List.of("all-linear")),
                    Map.of("rank_pattern", List.of("v_proj=3", "model.layers.1.mlp.up_proj=5"),
                            "target_modules", List.of("v_proj", "up_proj", "o_proj")),
                    Map.of("layers_to_transform", List.of("1"), "r", List.of("2"))),
            "dora", List.of(Map.of("lora_dropout", List.of("0.1"), "bias", List.of("all"))),
            "ia3", List.of(Map.of("target_modules", List.of("all-linear"), "feedforward_modules",
                    List.of("up_proj", "down_proj"))),
            "seq_bn", List.of(Map.of("reduction_factor", List.of("4"))),
            "prefix", List.of(Map.of("prefix_projection", List.of("true"), "encoder_hidden_size", List.of("12"))),
            "prompt", List.of(Map.of("num_virtual_tokens", List.of("3"))));

    static Stream<Arguments> shapeCases() {
        return MethodVariant.all().flatMap(v -> Stream.concat(Stream.of(Map.<String, List<String>>of()),
                        SHAPE_OPTIONS.getOrDefault(v.name(), List.of()).stream())
                .map(options -> Arguments.of(v, options)));
    }

    /**
     * A method's {@link AdapterMethod#shape} is the adapter {@link AdapterMethod#create} makes: the same trainable
     * tensors in the same order, the same saved tensors, the same config, exactly the bytes {@link Adapter#save}
     * writes, pieces at exactly the adapter's sites, and its virtual tokens.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapeCases")
    void theShapeIsTheAdapterItCreates(MethodVariant variant, Map<String, List<String>> extra, @TempDir Path dir)
            throws Exception {
        Adapter adapter = variant.create(BASE, extra, 7);
        MethodOptions options = MethodOptions.of(variant.method().options(), variant.given(CONFIG, extra));
        AdapterShape shape = variant.method().shape(variant.name(), options, CONFIG, BASE.name());
        assertEquals(tensors(adapter.parameters()), shape.trainable(), variant + ": trainable tensors");
        assertEquals(adapter.parameterCount(), shape.trainableCount());
        assertEquals(new TreeSet<>(tensors(adapter.savedTensors()).stream().map(Object::toString).toList()),
                new TreeSet<>(shape.saved().stream().map(Object::toString).toList()), variant + ": saved");
        assertEquals(adapter.config(BASE.name()), shape.config(), variant + ": config");
        adapter.save(dir, BASE.name(), "sha256:" + "0".repeat(64));
        assertEquals(Files.size(dir.resolve("adapter_config.json")) + Files.size(dir.resolve(
                "adapter_model.safetensors")), shape.savedBytes("sha256:" + "0".repeat(64)), variant + ": saved bytes");
        assertEquals(AdapterSize.bytes(adapter), 4 * shape.trainingCount(), variant + ": values held");
        Set<String> sites = new HashSet<>(adapter.sites().linear().keySet());
        sites.addAll(adapter.sites().sublayer().keySet());
        assertEquals(sites, new HashSet<>(shape.pieces().stream().map(p -> p.site().module(p.layer())).toList()),
                variant + ": the pieces' sites");
        assertEquals(shape.pieces().size(), sites.size(), variant + ": one piece per site");
        assertEquals(adapter.sites().promptEmbeddings() == null ? 0 : adapter.sites().virtualTokens(),
                shape.promptTokens());
        assertEquals(adapter.sites().prefix() == null ? 0 : adapter.sites().virtualTokens(), shape.prefixTokens());
    }

    private static List<AdapterShape.Tensor> tensors(List<Parameter> parameters) {
        return parameters.stream().map(p -> new AdapterShape.Tensor(p.name(), p.shape())).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void savedFilesLoadToTheSameAdapter(MethodVariant variant, @TempDir Path dir) throws Exception {
        Adapter adapter = perturbed(variant);
        adapter.save(dir.resolve("saved"), BASE.name(), "fingerprint");
        Adapter loaded = AdapterFiles.load(dir.resolve("saved"));
        assertEquals(variant.method().peftType(), loaded.type());
        loaded.save(dir.resolve("resaved"), BASE.name(), "fingerprint");
        for (String file : List.of("adapter_config.json", "adapter_model.safetensors")) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("saved").resolve(file)),
                    Files.readAllBytes(dir.resolve("resaved").resolve(file)), variant + ": re-saved " + file + " differs");
        }
        LlamaModel base = new LlamaModel(CONFIG, WEIGHTS, null);
        float[] original = AdapterChecks.logits(base.withAdapters(List.of(adapter.sites())), SEQ.tokens());
        assertTrue(AdapterChecks.maxDiff(AdapterChecks.logits(base, SEQ.tokens()), original) > 1e-3,
                variant + ": the perturbed adapter must change the logits");
        assertArrayEquals(original, AdapterChecks.logits(base.withAdapters(List.of(loaded.sites())), SEQ.tokens()),
                variant + ": logits of the loaded adapter");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void mergesWhenItsSitesAreMergeableAndOtherwiseSaysWhyNot(MethodVariant variant) {
        List<AdapterSites> stack = List.of(perturbed(variant).sites());
        AdapterSites sites = stack.getFirst();
        boolean mergeable = sites.sublayer().isEmpty() && sites.promptEmbeddings() == null && sites.prefix() == null
                && !sites.linear().isEmpty() && sites.linear().values().stream().allMatch(MergeableHook.class::isInstance);
        if (!mergeable) {
            var e = assertThrows(IllegalArgumentException.class, () -> AdapterMerge.merge(WEIGHTS, stack),
                    variant + " cannot be merged, so merging must be refused");
            assertTrue(e.getMessage().contains("merged"), variant + ": the refusal says what cannot be merged: "
                    + e.getMessage());
            return;
        }
        LlamaModel base = new LlamaModel(CONFIG, WEIGHTS, null);
        float[] adapted = AdapterChecks.logits(base.withAdapters(stack), SEQ.tokens());
        LlamaWeights merged = AdapterMerge.merge(WEIGHTS, stack);
        float[] fromMerged = AdapterChecks.logits(new LlamaModel(CONFIG, merged, null), SEQ.tokens());
        assertTrue(AdapterChecks.maxDiff(AdapterChecks.logits(base, SEQ.tokens()), fromMerged) > 1e-3,
                variant + ": merging must change the weights");
        assertTrue(AdapterChecks.maxDiff(adapted, fromMerged) < 1e-4, variant + ": merged vs adapted logits differ by "
                + AdapterChecks.maxDiff(adapted, fromMerged));
        LlamaWeights unmerged = AdapterMerge.unmerge(merged, stack);
        for (int l = 0; l < CONFIG.numLayers(); l++) {
            LayerWeights expected = WEIGHTS.layers().get(l);
            LayerWeights actual = unmerged.layers().get(l);
            for (LinearSite site : LinearSite.allLinear()) {
                String module = site.module(l);
                assertTrue(AdapterChecks.maxDiff(values(expected.linear(site)), values(actual.linear(site))) < 1e-5,
                        variant + ": unmerged " + module + " is not the base's");
                if (expected.bias(site) != null) {
                    assertTrue(AdapterChecks.maxDiff(expected.bias(site), actual.bias(site)) < 1e-5,
                            variant + ": unmerged bias of " + module + " is not the base's");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void gradientsOfEveryTrainableTensorMatchCentralDifferences(MethodVariant variant) {
        Adapter adapter = perturbed(variant);
        TrainableLlama model = TrainableLlama.create(CONFIG, WEIGHTS, name -> false, adapter.sites());
        Set<Parameter> trained = Collections.newSetFromMap(new IdentityHashMap<>());
        trained.addAll(model.parameters());
        Set<Parameter> own = Collections.newSetFromMap(new IdentityHashMap<>());
        own.addAll(adapter.parameters());
        assertFalse(own.isEmpty(), variant + " has no trainable tensor");
        assertEquals(own, trained, variant + ": the frozen base trains exactly the adapter's tensors");
        int probes = 2;
        String surrogate = SURROGATE_GRADIENTS.get(variant.name());
        if (surrogate == null) {
            assertEquals(probes * own.size(), AdapterChecks.checkGradients(model, SEQ, new SplittableRandom(3), probes));
            return;
        }
        model.parameters().forEach(Parameter::zeroGrad);
        model.forwardBackward(SEQ, 1f);
        SplittableRandom rnd = new SplittableRandom(3);
        int disagreeing = 0;
        double squaredNorm = 0;
        for (Parameter p : model.parameters()) {
            for (int probe = 0; probe < probes; probe++) {
                int i = rnd.nextInt(p.size());
                double numeric = AdapterChecks.centralDifference(model, SEQ, p, i);
                disagreeing += Math.abs(numeric - p.grad()[i]) > 3e-3 + 3e-2 * Math.abs(numeric) ? 1 : 0;
            }
            for (float g : p.grad()) {
                squaredNorm += (double) g * g;
            }
        }
        assertTrue(disagreeing > 0, variant + " is listed as training with a surrogate gradient (" + surrogate
                + "), but its gradients match central differences of the loss: check them exactly instead");
        double before = model.loss(SEQ).nllSum();
        double eta = 1e-2 / Math.sqrt(squaredNorm);
        for (Parameter p : model.parameters()) {
            for (int i = 0; i < p.size(); i++) {
                p.data()[i] -= (float) (eta * p.grad()[i]);
            }
        }
        double after = model.loss(SEQ).nllSum();
        assertTrue(after < before, variant + ": a step of 0.01 against its " + surrogate + " gradient must lower the "
                + "loss: " + before + " -> " + after);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void aShortFitLowersTheLoss(MethodVariant variant) {
        Adapter adapter = variant.create(BASE, Map.of(), 7);
        TrainableLlama model = TrainableLlama.create(CONFIG, WEIGHTS, name -> false, adapter.sites());
        List<PackedSequence> data = repetitiveData();
        long counted = data.stream().mapToLong(model::countedLabels).sum();
        double initial = meanLoss(model, data);
        Optimizer adamw = OptimizerType.ADAMW.create(0);
        for (int step = 0; step < 30; step++) {
            model.parameters().forEach(Parameter::zeroGrad);
            for (PackedSequence s : data) {
                model.forwardBackward(s, 1f / counted);
            }
            adamw.step(model.parameters(), 2e-2);
        }
        double fitted = meanLoss(model, data);
        assertTrue(fitted < 0.8 * initial, variant + ": 30 AdamW steps at lr 2e-2 must lower the loss below 80% of "
                + initial + ", got " + fitted);
    }

    /** Three sequences of 16 tokens cycling through a few fixed patterns. */
    private static List<PackedSequence> repetitiveData() {
        int[][] patterns = {{5, 9, 13, 17}, {20, 21, 22}, {40, 3, 40, 7, 11}};
        List<PackedSequence> out = new ArrayList<>();
        for (int[] pattern : patterns) {
            int[] tokens = new int[16];
            for (int t = 0; t < tokens.length; t++) {
                tokens[t] = pattern[t % pattern.length];
            }
            out.add(packed(tokens, new int[tokens.length]));
        }
        return out;
    }

    private static double meanLoss(TrainableLlama model, List<PackedSequence> data) {
        CausalLmLoss.Total total = new CausalLmLoss.Total(0, 0);
        for (PackedSequence s : data) {
            total = total.plus(model.loss(s));
        }
        return total.mean();
    }

    /** Examples packed as {@code starts} says (each token's example's first index); each example's first label ignored. */
    private static PackedSequence packed(int[] tokens, int[] starts) {
        int[] labels = tokens.clone();
        int[] positions = new int[tokens.length];
        for (int t = 0; t < tokens.length; t++) {
            positions[t] = t - starts[t];
            if (positions[t] == 0) {
                labels[t] = CausalLmLoss.IGNORE_INDEX;
            }
        }
        return new PackedSequence(tokens, labels, positions, starts);
    }

    private static float[] values(WeightMatrix w) {
        float[] out = new float[w.rows() * w.cols()];
        for (int r = 0; r < w.rows(); r++) {
            w.copyRow(r, out, r * w.cols());
        }
        return out;
    }

    /** Weights drawn uniformly from ±0.4 (norms from [0.5, 1.5]), so every path of the network matters. */
    private static LlamaWeights randomWeights(ModelConfig c, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int d = c.hiddenSize();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            layers.add(new LayerWeights(norm(rnd, d), matrix(rnd, c.qDim(), d), matrix(rnd, c.kvDim(), d),
                    matrix(rnd, c.kvDim(), d), matrix(rnd, d, c.qDim()), vector(rnd, c.qDim()),
                    vector(rnd, c.kvDim()), vector(rnd, c.kvDim()), null, null, norm(rnd, d),
                    matrix(rnd, c.intermediateSize(), d), matrix(rnd, c.intermediateSize(), d),
                    matrix(rnd, d, c.intermediateSize())));
        }
        return new LlamaWeights(matrix(rnd, c.vocabSize(), d), layers, norm(rnd, d), matrix(rnd, c.vocabSize(), d));
    }

    private static WeightMatrix matrix(SplittableRandom rnd, int rows, int cols) {
        return WeightMatrix.of(vector(rnd, rows * cols), rows, cols);
    }

    private static float[] vector(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-0.4, 0.4);
        }
        return v;
    }

    private static float[] norm(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(0.5, 1.5);
        }
        return v;
    }
}
