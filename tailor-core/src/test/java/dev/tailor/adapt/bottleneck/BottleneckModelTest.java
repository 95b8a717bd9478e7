package dev.tailor.adapt.bottleneck;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterChecks;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.io.TensorFormatException;
import dev.tailor.adapt.AdapterMerge;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.LlamaModel;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
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

/** Bottleneck adapters on the tiny Llama: identity at init, gradients at both placements, files, errors. */
class BottleneckModelTest {
    private static final int[] IDS = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366};

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void freshAdaptersAreTheIdentityForTrainingAndInference(Architecture architecture) {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            BottleneckModel bn = BottleneckModel.create(BottleneckConfig.defaults(architecture, null, null),
                    base.config(), 1);
            int sites = architecture == Architecture.SEQ_BN ? 2 : 4;
            assertEquals(sites, bn.adapters().size());
            assertEquals(sites * (4 * 64 + 4 + 64 * 4 + 64), bn.parameterCount(), "64 → 64/16 = 4 → 64");
            PackedSequence seq = AdapterChecks.packed();
            TrainableLlama plain = TrainableLlama.create(base.config(), base.weights(), name -> false);
            TrainableLlama adapted = TrainableLlama.create(base.config(), base.weights(), name -> false, bn.sites());
            assertArrayEquals(plain.logits(seq), adapted.logits(seq));
            assertArrayEquals(AdapterChecks.logits(base, IDS),
                    AdapterChecks.logits(base.withAdapters(List.of(bn.sites())), IDS));
        }
    }

    @ParameterizedTest
    @CsvSource({"SEQ_BN, relu", "DOUBLE_SEQ_BN, swish", "DOUBLE_SEQ_BN, gelu", "SEQ_BN, tanh"})
    void gradientsOfEveryTensorMatchFiniteDifferences(Architecture architecture, String nonLinearity) {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            BottleneckModel bn = BottleneckModel.create(BottleneckConfig.defaults(architecture, 8.0, nonLinearity),
                    base.config(), 3);
            SplittableRandom rnd = new SplittableRandom(4);
            AdapterChecks.perturb(bn.parameters(), rnd, 0.3);
            TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), name -> false, bn.sites());
            int tensors = 4 * bn.adapters().size();
            assertEquals(tensors, model.parameters().size());
            assertEquals(0, model.stopLayer());
            assertEquals(3 * tensors, AdapterChecks.checkGradients(model, AdapterChecks.packed(), rnd, 3));
        }
    }

    @Test
    void savedFilesRoundTripToTheSameLogits(@TempDir Path dir) throws Exception {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            BottleneckModel bn = BottleneckModel.create(BottleneckConfig.defaults(Architecture.DOUBLE_SEQ_BN, null,
                    "gelu"), base.config(), 1);
            AdapterChecks.perturb(bn.parameters(), new SplittableRandom(2), 0.3);
            PackedSequence seq = AdapterChecks.packed();
            float[] trained = TrainableLlama.create(base.config(), base.weights(), name -> false, bn.sites())
                    .logits(seq);
            float[] inference = AdapterChecks.logits(base.withAdapters(List.of(bn.sites())), IDS);
            assertTrue(AdapterChecks.maxDiff(AdapterChecks.logits(base, IDS), inference) > 1e-3);

            bn.save(dir, "tiny-llama", "sha256:abc");
            JsonNode config = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
            List<String> keys = new ArrayList<>();
            config.fieldNames().forEachRemaining(keys::add);
            assertEquals(List.of("architecture", "base_model_name_or_path", "hidden_size", "non_linearity",
                    "num_layers", "peft_type", "reduction_factor", "task_type"), keys);
            assertEquals(BottleneckModel.CONFIG_KEYS, keys);
            assertEquals("""
                    {
                      "architecture": "double_seq_bn",
                      "base_model_name_or_path": "tiny-llama",
                      "hidden_size": 64,
                      "non_linearity": "gelu",
                      "num_layers": 2,
                      "peft_type": "BOTTLENECK",
                      "reduction_factor": 16,
                      "task_type": "CAUSAL_LM"
                    }""", Files.readString(dir.resolve("adapter_config.json")).strip());
            assertEquals("sha256:abc", AdapterFiles.baseFingerprint(dir));
            try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
                assertEquals(16, file.names().size());
                assertEquals("[4, 64]", java.util.Arrays.toString(
                        file.info("model.layers.1.self_attn.adapter_down.weight").shape()));
                assertEquals("[64, 4]", java.util.Arrays.toString(
                        file.info("model.layers.0.mlp.adapter_up.weight").shape()));
            }

            Adapter loaded = AdapterFiles.load(dir);
            BottleneckModel reloaded = assertInstanceOf(BottleneckModel.class, loaded);
            assertEquals(bn.settings(), reloaded.settings());
            assertArrayEquals(trained, TrainableLlama.create(base.config(), base.weights(), name -> false,
                    loaded.sites()).logits(seq));
            assertArrayEquals(inference, AdapterChecks.logits(base.withAdapters(List.of(loaded.sites())), IDS));
            var merge = assertThrows(IllegalArgumentException.class,
                    () -> AdapterMerge.merge(base.weights(), List.of(loaded.sites())));
            assertTrue(merge.getMessage().contains("bottleneck"), merge.getMessage());
        }
    }

    @Test
    void anAdapterForHidden32OnHidden64IsRefusedNamingTheSite() {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            String site = "model.layers.1.mlp";
            BottleneckLayer small = BottleneckLayer.create(site, 32, 2, NonLinearity.RELU,
                    new SplittableRandom(1));
            AdapterSites sites = AdapterSites.ofSublayer(Map.of(site, small));
            var training = assertThrows(IllegalArgumentException.class,
                    () -> TrainableLlama.create(base.config(), base.weights(), name -> false, sites));
            assertTrue(training.getMessage().contains(site) && training.getMessage().contains("32")
                    && training.getMessage().contains("64"), training.getMessage());
            var inference = assertThrows(IllegalArgumentException.class, () -> base.withAdapters(List.of(sites)));
            assertTrue(inference.getMessage().contains(site), inference.getMessage());
        }
    }

    @Test
    void aMissingTensorIsNamed(@TempDir Path dir) throws Exception {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            BottleneckModel.create(BottleneckConfig.defaults(Architecture.SEQ_BN, null, null), base.config(), 1)
                    .save(dir, "tiny-llama", null);
            String config = Files.readString(dir.resolve("adapter_config.json"));
            Files.writeString(dir.resolve("adapter_config.json"), config.replace("\"seq_bn\"", "\"double_seq_bn\""));
            var e = assertThrows(RuntimeException.class, () -> AdapterFiles.load(dir));
            assertTrue(e.getMessage().contains("model.layers.0.self_attn.adapter_down.weight"), e.getMessage());
            Files.writeString(dir.resolve("adapter_config.json"), config.replace("\"relu\"", "\"mish\""));
            var f = assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir));
            assertTrue(f.getMessage().contains("adapter_config.json") && f.getMessage().contains("mish"),
                    f.getMessage());
            // far more layers than the file holds: the first missing one is named (once, an unnamed "Illegal
            // Capacity" from a list of every site the config claimed)
            int layers = base.config().numLayers();
            Files.writeString(dir.resolve("adapter_config.json"),
                    config.replaceAll("\"num_layers\"\\s*:\\s*" + layers, "\"num_layers\": 1073741824"));
            var g = assertThrows(TensorFormatException.class, () -> AdapterFiles.load(dir));
            assertTrue(g.getMessage().contains("adapter_model.safetensors")
                    && g.getMessage().contains("missing model.layers." + layers + "."), g.getMessage());
        }
    }
}
