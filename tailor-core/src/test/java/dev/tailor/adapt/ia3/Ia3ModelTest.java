package dev.tailor.adapt.ia3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterChecks;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.AdapterMerge;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** (IA)³ on the tiny Llama: identity at init, gradients, PEFT files round trip, merge and unmerge. */
class Ia3ModelTest {
    private static final int[] IDS = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366};

    @Test
    void freshVectorsAreTheIdentityForTrainingAndInference() {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            Ia3Model ia3 = Ia3Model.create(Ia3Config.defaults(null, null), base.config(), 1);
            assertEquals(6, ia3.modules().size());
            assertEquals("IA³ on 6 modules (2 feed-forward)", ia3.describe());
            assertEquals(2 * (32 + 32 + 176), ia3.parameterCount());
            PackedSequence seq = AdapterChecks.packed();
            TrainableLlama plain = TrainableLlama.create(base.config(), base.weights(), name -> false);
            TrainableLlama adapted = TrainableLlama.create(base.config(), base.weights(), name -> false, ia3.sites());
            assertArrayEquals(plain.logits(seq), adapted.logits(seq));
            assertArrayEquals(AdapterChecks.logits(base, IDS),
                    AdapterChecks.logits(base.withAdapters(List.of(ia3.sites())), IDS));
        }
    }

    /** Every linear targeted; gate_proj and down_proj scale their input, so input gradients flow through both kinds. */
    @Test
    void gradientsOfEveryVectorMatchFiniteDifferences() {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            Ia3Model ia3 = Ia3Model.create(new Ia3Config(List.of("all-linear"), List.of("gate_proj", "down_proj"),
                    true), base.config(), 1);
            assertEquals(14, ia3.modules().size());
            SplittableRandom rnd = new SplittableRandom(5);
            AdapterChecks.perturb(ia3.parameters(), rnd, 0.5);
            TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), name -> false, ia3.sites());
            assertEquals(14, model.parameters().size());
            assertEquals(0, model.stopLayer());
            int checked = AdapterChecks.checkGradients(model, AdapterChecks.packed(), rnd, 3);
            assertEquals(14 * 3, checked);
        }
    }

    @Test
    void savedFilesHavePeftKeysAndNamesAndLoadToTheSameLogits(@TempDir Path dir) throws Exception {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            Ia3Model ia3 = Ia3Model.create(Ia3Config.defaults(null, null), base.config(), 1);
            AdapterChecks.perturb(ia3.parameters(), new SplittableRandom(2), 0.3);
            PackedSequence seq = AdapterChecks.packed();
            float[] trained = TrainableLlama.create(base.config(), base.weights(), name -> false, ia3.sites())
                    .logits(seq);
            float[] inference = AdapterChecks.logits(base.withAdapters(List.of(ia3.sites())), IDS);
            assertTrue(AdapterChecks.maxDiff(AdapterChecks.logits(base, IDS), inference) > 1e-3,
                    "the perturbed vectors change the logits");

            ia3.save(dir, "tiny-llama", "sha256:abc");
            JsonNode config = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
            List<String> keys = new ArrayList<>();
            config.fieldNames().forEachRemaining(keys::add);
            assertEquals(List.of("auto_mapping", "base_model_name_or_path", "fan_in_fan_out", "feedforward_modules",
                    "inference_mode", "init_ia3_weights", "modules_to_save", "peft_type", "revision", "target_modules",
                    "task_type"), keys);
            assertEquals(Ia3Files.CONFIG_KEYS, keys);
            assertEquals("IA3", config.get("peft_type").asText());
            assertEquals("[\"down_proj\",\"k_proj\",\"v_proj\"]", config.get("target_modules").toString());
            assertEquals("[\"down_proj\"]", config.get("feedforward_modules").toString());
            assertTrue(config.get("init_ia3_weights").asBoolean());
            assertEquals("sha256:abc", AdapterFiles.baseFingerprint(dir));
            try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
                assertEquals("[32, 1]", java.util.Arrays.toString(
                        file.info("base_model.model.model.layers.1.self_attn.v_proj.ia3_l").shape()));
                assertEquals("[1, 176]", java.util.Arrays.toString(
                        file.info("base_model.model.model.layers.0.mlp.down_proj.ia3_l").shape()));
                assertEquals(6, file.names().size());
            }

            Adapter loaded = AdapterFiles.load(dir);
            Ia3Model reloaded = assertInstanceOf(Ia3Model.class, loaded);
            assertEquals(ia3.settings().projections(), reloaded.settings().projections());
            assertEquals(ia3.settings().feedforwardModules(), reloaded.settings().feedforwardModules());
            assertEquals(ia3.modules().keySet(), reloaded.modules().keySet());
            assertArrayEquals(trained, TrainableLlama.create(base.config(), base.weights(), name -> false,
                    loaded.sites()).logits(seq));
            assertArrayEquals(inference, AdapterChecks.logits(base.withAdapters(List.of(loaded.sites())), IDS));
        }
    }

    @Test
    void mergingGivesTheAdaptedLogitsAndUnmergingRestoresTheWeights() {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            Ia3Model ia3 = Ia3Model.create(new Ia3Config(List.of("q_proj", "k_proj", "v_proj", "up_proj",
                    "down_proj"), List.of("down_proj", "up_proj"), true), base.config(), 1);
            AdapterChecks.perturb(ia3.parameters(), new SplittableRandom(3), 0.4);
            float[] adapted = AdapterChecks.logits(base.withAdapters(List.of(ia3.sites())), IDS);
            LlamaWeights merged = AdapterMerge.merge(base.weights(), List.of(ia3.sites()));
            float[] fromMerged = AdapterChecks.logits(new LlamaModel(base.config(), merged, null), IDS);
            double diff = AdapterChecks.maxDiff(adapted, fromMerged);
            assertTrue(diff <= 2e-5, "merged vs adapted: " + diff);
            assertTrue(AdapterChecks.maxDiff(adapted, AdapterChecks.logits(base, IDS)) > 1e-3, "the adapter matters");

            for (Map.Entry<String, Ia3Layer> e : ia3.modules().entrySet()) {
                WeightMatrix original = weight(base.weights(), e.getKey());
                float[] values = floats(weight(merged, e.getKey()));
                e.getValue().unmergeFrom(values, null);
                float[] expected = floats(original);
                for (int i = 0; i < values.length; i++) {
                    assertEquals(expected[i], values[i], 1e-6, e.getKey() + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void anAdapterForAnotherShapeIsRefusedNamingTheModule() {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            String module = "model.layers.1.self_attn.v_proj";
            Ia3Layer wrong = Ia3Layer.create(module, 64, 64, false);
            var e = assertThrows(IllegalArgumentException.class, () -> TrainableLlama.create(base.config(),
                    base.weights(), name -> false, AdapterSites.ofLinear(Map.of(module, wrong))));
            assertTrue(e.getMessage().contains(module) && e.getMessage().contains("[32, 64]"), e.getMessage());
            var inference = assertThrows(IllegalArgumentException.class,
                    () -> base.withAdapters(List.of(AdapterSites.ofLinear(Map.of(module, wrong)))));
            assertTrue(inference.getMessage().contains(module), inference.getMessage());
        }
    }

    @Test
    void feedforwardModulesMustBeTargets() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Ia3Config(List.of("k_proj", "v_proj"), List.of("down_proj"), true));
        assertTrue(e.getMessage().contains("down_proj") && e.getMessage().contains("subset"), e.getMessage());
        assertEquals(List.of(), Ia3Config.defaults(List.of("q_proj"), null).feedforwardModules());
    }

    private static WeightMatrix weight(LlamaWeights w, String module) {
        LayerWeights l = w.layers().get(Integer.parseInt(module.split("\\.")[2]));
        return switch (module.substring(module.lastIndexOf('.') + 1)) {
            case "q_proj" -> l.q();
            case "k_proj" -> l.k();
            case "v_proj" -> l.v();
            case "up_proj" -> l.up();
            case "down_proj" -> l.down();
            default -> throw new IllegalArgumentException(module);
        };
    }

    private static float[] floats(WeightMatrix w) {
        float[] out = new float[w.rows() * w.cols()];
        for (int r = 0; r < w.rows(); r++) {
            w.copyRow(r, out, r * w.cols());
        }
        return out;
    }
}
