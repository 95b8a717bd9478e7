package dev.tailor.adapt.compacter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterChecks;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorFormatException;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compacter and Compacter++ on the tiny Llama (hidden 64, so {@code --reduction-factor 16} leaves 4 = phm_dim
 * bottleneck features): identity at init, gradients against finite differences, the shared rule, parameter counts,
 * the save→load round trip and the errors.
 */
class CompacterModelTest {
    private static LlamaModel base;
    private static PackedSequence seq;

    @BeforeAll
    static void open() {
        base = LlamaModel.load(Shared.require("models/tiny-llama"));
        try (SafetensorsFile g = SafetensorsFile.open(Shared.require("golden/tiny-llama/forward.safetensors"))) {
            seq = GoldenTensors.batch(g).getFirst();
        }
    }

    @AfterAll
    static void close() {
        if (base != null) {
            base.close();
        }
    }

    private static CompacterModel create(CompacterArchitecture architecture) {
        return CompacterModel.create(new CompacterConfig(architecture, 16, 4, 1), base.config(), 11);
    }

    private static TrainableLlama trainable(AdapterSites sites) {
        return TrainableLlama.create(base.config(), base.weights(), name -> false, sites);
    }

    /** Moves every value by a random amount so no factor is zero and the rule is far from its tiny init. */
    private static void perturb(Adapter adapter, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (Parameter p : adapter.parameters()) {
            double scale = p.name().equals(CompacterFiles.RULE) ? 0.5 : 0.3;
            for (int i = 0; i < p.size(); i++) {
                p.data()[i] += (float) rnd.nextDouble(-scale, scale);
            }
        }
    }

    private static float[] inferenceLogits(LlamaModel model) {
        int[] ids = seq.tokens();
        return model.logits(model.forward(model.newCache(ids.length), ids), 0, ids.length);
    }

    @ParameterizedTest
    @EnumSource(CompacterArchitecture.class)
    void freshAdapterIsTheExactIdentityInTrainingAndInference(CompacterArchitecture architecture) {
        CompacterModel adapter = create(architecture);
        for (CompacterLayer layer : adapter.layers().values()) {
            float[] upRight = layer.up().parameters().get(2).data();
            float[] downRight = layer.down().parameters().get(2).data();
            assertArrayEquals(new float[upRight.length], upRight, "up W_right starts at zero");
            assertTrue(maxAbs(downRight) > 0.1, "down W_right is drawn");
        }
        assertTrue(maxAbs(adapter.phmRule().data()) > 0 && maxAbs(adapter.phmRule().data()) < 1e-3,
                "rule drawn from N(0, 1e-4²)");
        assertArrayEquals(trainable(AdapterSites.NONE).logits(seq), trainable(adapter.sites()).logits(seq));
        try (LlamaModel adapted = base.withAdapters(List.of(adapter.sites()))) {
            assertArrayEquals(inferenceLogits(base), inferenceLogits(adapted));
        }
    }

    @ParameterizedTest
    @EnumSource(CompacterArchitecture.class)
    void gradientsOfEveryParameterKindAndOfTheInputMatchFiniteDifferences(CompacterArchitecture architecture) {
        CompacterModel adapter = create(architecture);
        perturb(adapter, 5);
        // these base weights get their gradient only through the adapters' input gradients dh
        List<String> below = List.of("model.layers.0.mlp.down_proj.weight", "model.layers.1.mlp.down_proj.weight",
                "model.layers.0.self_attn.o_proj.weight");
        TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), below::contains, adapter.sites());
        model.forwardBackward(seq, 1f);
        SplittableRandom rnd = new SplittableRandom(9);
        int checked = 0;
        for (Parameter p : model.parameters()) {
            for (int probe = 0; probe < 3; probe++) {
                int i = rnd.nextInt(p.size());
                double numeric = AdapterChecks.centralDifference(model, seq, p, i);
                double analytic = p.grad()[i];
                assertEquals(numeric, analytic, 3e-3 + 3e-2 * Math.abs(numeric), p.name() + "[" + i + "]");
                checked++;
            }
        }
        int sites = adapter.layers().size();
        assertEquals(3 * (1 + 6 * sites + below.size()), checked);
    }

    @Test
    void theSharedRuleIsOneTensorWhoseGradientSumsEveryLayersContribution() {
        CompacterModel adapter = create(CompacterArchitecture.COMPACTER);
        perturb(adapter, 6);
        Parameter rule = adapter.phmRule();
        for (CompacterLayer layer : adapter.layers().values()) {
            assertSame(rule, layer.down().parameters().getFirst());
            assertSame(rule, layer.up().parameters().getFirst());
        }
        TrainableLlama full = trainable(adapter.sites());
        assertEquals(1, full.parameters().stream().filter(p -> p == rule).count(), "listed once");
        assertEquals(1, adapter.parameters().stream().filter(p -> p.name().equals(CompacterFiles.RULE)).count());
        full.forwardBackward(seq, 1f);
        float[] total = rule.grad().clone();

        // the same model, but only one site reads the tracked rule; the others read an equal copy
        float[] sum = new float[total.length];
        int contributing = 0;
        for (String site : adapter.layers().keySet()) {
            Parameter copy = new Parameter("copy", rule.shape(), rule.data().clone());
            Map<String, CompacterLayer> layers = new TreeMap<>();
            adapter.layers().forEach((s, l) -> layers.put(s, s.equals(site) ? l : withRule(l, copy)));
            rule.zeroGrad();
            trainable(AdapterSites.ofSublayer(layers)).forwardBackward(seq, 1f);
            float[] part = rule.grad();
            for (int i = 0; i < sum.length; i++) {
                sum[i] += part[i];
            }
            contributing += maxAbs(part) > 1e-3 * maxAbs(total) ? 1 : 0;
            assertTrue(maxAbs(diff(part, total)) > 1e-3 * maxAbs(total), site + " alone is not the total");
        }
        assertEquals(4, contributing, "every site contributes");
        for (int i = 0; i < total.length; i++) {
            assertEquals(total[i], sum[i], 1e-4 * (1 + Math.abs(total[i])), "rule[" + i + "]");
        }
    }

    private static CompacterLayer withRule(CompacterLayer l, Parameter rule) {
        List<Parameter> d = l.down().parameters();
        List<Parameter> u = l.up().parameters();
        return new CompacterLayer(new PhmLayer(rule, d.get(1), d.get(2), d.get(3)),
                new PhmLayer(rule, u.get(1), u.get(2), u.get(3)));
    }

    @Test
    void parameterCountFollowsTheFormula() {
        // n³ + sites·(2·rank + 1)·(d + k): 4³ + 4·3·(64 + 4) and 4³ + 2·3·(64 + 4)
        assertEquals(880, create(CompacterArchitecture.COMPACTER).parameterCount());
        assertEquals(472, create(CompacterArchitecture.COMPACTER_PLUS_PLUS).parameterCount());
        CompacterConfig wide = new CompacterConfig(CompacterArchitecture.COMPACTER, 8, 2, 2);
        CompacterModel adapter = CompacterModel.create(wide, base.config(), 1);
        // 2³ + 4·5·(64 + 8)
        assertEquals(1448, adapter.parameterCount());
        assertEquals(1448, CompacterModel.parameterCount(wide, 64, 2));
        assertEquals(1448, trainable(adapter.sites()).parameters().stream().mapToLong(Parameter::size).sum());
        assertEquals(1 + 4 * 6, adapter.parameters().size());
    }

    @Test
    void compacterPlusPlusSitsAfterTheMlpOnly() {
        assertEquals(List.of("model.layers.0.mlp", "model.layers.1.mlp"),
                List.copyOf(create(CompacterArchitecture.COMPACTER_PLUS_PLUS).layers().keySet()));
        assertEquals(List.of("model.layers.0.mlp", "model.layers.0.self_attn", "model.layers.1.mlp",
                "model.layers.1.self_attn"), List.copyOf(create(CompacterArchitecture.COMPACTER).layers().keySet()));
        assertTrue(create(CompacterArchitecture.COMPACTER_PLUS_PLUS).describe().startsWith("Compacter++ phm_dim=4"));
    }

    @ParameterizedTest
    @EnumSource(CompacterArchitecture.class)
    void saveLoadRoundTripReproducesTheLogitsExactly(CompacterArchitecture architecture, @TempDir Path dir)
            throws Exception {
        CompacterModel adapter = create(architecture);
        perturb(adapter, 7);
        float[] trained = trainable(adapter.sites()).logits(seq);
        assertTrue(maxAbs(diff(trained, trainable(AdapterSites.NONE).logits(seq))) > 1e-3, "the adapter acts");
        adapter.save(dir, "tiny-llama", "sha256:abc");

        JsonNode config = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
        List<String> keys = new ArrayList<>();
        config.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("architecture", "base_model_name_or_path", "factorized_phm_W", "hidden_size",
                "non_linearity", "num_layers", "peft_type", "phm_dim", "phm_rank", "reduction_factor",
                "shared_phm_rule", "task_type"), keys);
        assertEquals(architecture.configName(), config.get("architecture").asText());
        assertEquals("COMPACTER", config.get("peft_type").asText());
        assertEquals(16, config.get("reduction_factor").asInt());
        assertEquals("gelu", config.get("non_linearity").asText());
        assertTrue(Files.readString(dir.resolve("adapter_config.json")).startsWith("{\n  \"architecture\": "));
        assertEquals("sha256:abc", AdapterFiles.baseFingerprint(dir));
        try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(1 + 6 * adapter.layers().size(), file.names().size(), "the shared rule is stored once");
            assertTrue(file.contains("model.shared_parameters.default.phm_rule"));
            assertTrue(file.contains("model.layers.1.output_adapters.adapters.default.adapter_up.W_right"));
            assertEquals(architecture == CompacterArchitecture.COMPACTER,
                    file.contains("model.layers.0.attention_adapters.adapters.default.adapter_down.0.W_left"));
        }

        CompacterModel loaded = assertInstanceOf(CompacterModel.class, AdapterFiles.load(dir));
        assertEquals(adapter.settings(), loaded.settings());
        assertEquals(adapter.parameterCount(), loaded.parameterCount());
        for (CompacterLayer layer : loaded.layers().values()) {
            assertSame(loaded.phmRule(), layer.down().parameters().getFirst());
            assertSame(loaded.phmRule(), layer.up().parameters().getFirst());
        }
        assertArrayEquals(trained, trainable(loaded.sites()).logits(seq));
        try (LlamaModel a = base.withAdapters(List.of(adapter.sites()));
             LlamaModel b = base.withAdapters(List.of(loaded.sites()))) {
            float[] expected = inferenceLogits(a);
            assertArrayEquals(expected, inferenceLogits(b));
            assertTrue(maxAbs(diff(expected, inferenceLogits(base))) > 1e-3, "inference applies the adapter");
        }
    }

    @Test
    void indivisibleSizesFailWithASuggestion() {
        ModelConfig c = base.config();
        var e = assertThrows(IllegalArgumentException.class, () -> CompacterModel.create(
                CompacterConfig.defaults(CompacterArchitecture.COMPACTER), c, 1));
        assertTrue(e.getMessage().contains("hidden size 64 / reduction_factor 32 = 2 bottleneck features")
                && e.getMessage().contains("phm_dim 4") && e.getMessage().contains("try reduction_factor 16"),
                e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> CompacterModel.create(
                new CompacterConfig(CompacterArchitecture.COMPACTER_PLUS_PLUS, 16, 3, 1), c, 1));
        assertTrue(e2.getMessage().contains("hidden size 64 is not divisible by phm_dim 3"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> CompacterModel.create(
                new CompacterConfig(CompacterArchitecture.COMPACTER, 32, 64, 1), c, 1));
        assertTrue(e3.getMessage().contains("try reduction_factor 1 (64 / 1 = 64)"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class,
                () -> new CompacterConfig(CompacterArchitecture.COMPACTER, 16, 4, 0));
        assertEquals("phm_rank must be >= 1, got 0", e4.getMessage());
    }

    @Test
    void aFileThatDoesNotMatchItsConfigNamesTheTensor(@TempDir Path dir) throws Exception {
        create(CompacterArchitecture.COMPACTER).save(dir, "tiny-llama", null);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(dir.resolve("adapter_config.json").toFile());
        json.writeValue(dir.resolve("adapter_config.json").toFile(), config.put("phm_rank", 2));
        var e = assertThrows(TensorFormatException.class, () -> AdapterFiles.load(dir));
        assertTrue(e.getMessage().contains("model.layers.0.attention_adapters.adapters.default.adapter_down.0.W_left "
                + "must be a float tensor of shape [4, 16, 2]"), e.getMessage());
        json.writeValue(dir.resolve("adapter_config.json").toFile(), config.put("phm_rank", 1)
                .put("architecture", "compacter+"));
        var e2 = assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir));
        assertTrue(e2.getMessage().contains("adapter_config.json: unknown Compacter architecture \"compacter+\""),
                e2.getMessage());
    }

    private static float[] diff(float[] a, float[] b) {
        float[] d = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
