package dev.tailor.adapt.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterChecks;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.AdapterMerge;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DoRA on whole models: identity at init, PEFT's files, round trip, merge, and magnitude gradients end to end. */
class DoraModelTest {
    static final List<String> PEFT_KEYS = List.of("alpha_pattern", "auto_mapping", "base_model_name_or_path",
            "bias", "fan_in_fan_out", "inference_mode", "init_lora_weights", "layer_replication", "layers_pattern",
            "layers_to_transform", "loftq_config", "lora_alpha", "lora_dropout", "megatron_config", "megatron_core",
            "modules_to_save", "peft_type", "r", "rank_pattern", "revision", "target_modules", "task_type", "use_dora",
            "use_rslora");

    @Test
    void doraOnTinyLlamaStartsAsTheIdentityRoundTripsAndMerges(@TempDir Path dir) throws Exception {
        LoraConfig settings = new LoraConfig(4, 8, 0, List.of("all-linear"), false, null, true, LoraBias.NONE,
                LoraInit.KAIMING_UNIFORM);
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"));
             SafetensorsFile g = SafetensorsFile.open(Shared.require("golden/tiny-llama/forward.safetensors"))) {
            PackedSequence seq = GoldenTensors.batch(g).getFirst();
            LoraModel dora = LoraModel.create(settings, base.config(), base.weights(), 7);
            assertEquals(14, dora.magnitudes().size());
            assertTrue(dora.describe().startsWith("DoRA r=4 on 14 modules"), dora.describe());
            TrainableLlama plain = TrainableLlama.create(base.config(), base.weights(), name -> false);
            TrainableLlama adapted = TrainableLlama.create(base.config(), base.weights(), name -> false, dora.sites());
            assertEquals(14 * 3, adapted.parameters().size());
            float[] before = plain.logits(seq);
            assertArrayEquals(before, adapted.logits(seq), "m = ‖W0‖, B = 0: the identity");

            TinyRandomLlama.perturb(adapted.parameters(), 0.05, 1);
            float[] trained = adapted.logits(seq);
            assertTrue(TinyRandomLlama.maxDiff(before, trained) > 1e-3, "the perturbed adapter changes the logits");

            dora.save(dir, "tiny-llama", null);
            JsonNode config = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
            List<String> keys = new ArrayList<>();
            config.fieldNames().forEachRemaining(keys::add);
            assertEquals(PEFT_KEYS, keys);
            assertTrue(config.get("use_dora").asBoolean());
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
                assertEquals(List.of(64L), List.of(f.info(
                        "base_model.model.model.layers.1.mlp.down_proj.lora_magnitude_vector").shape()[0]));
                assertEquals(14 * 3, f.names().size());
            }
            Adapter loaded = AdapterFiles.load(dir);
            TrainableLlama reloaded = TrainableLlama.create(base.config(), base.weights(), name -> false,
                    loaded.sites());
            assertArrayEquals(trained, reloaded.logits(seq), "save → load reproduces the logits exactly");

            LlamaWeights merged = AdapterMerge.merge(base.weights(), List.of(loaded.sites()));
            float[] fromMerged = TrainableLlama.create(base.config(), merged, name -> false).logits(seq);
            double diff = TinyRandomLlama.maxDiff(trained, fromMerged);
            assertTrue(diff <= 2e-5, "merged vs adapted: " + diff);
        }
    }

    @Test
    void magnitudeAndLowerLayerGradientsMatchCentralDifferences() {
        LoraConfig settings = new LoraConfig(2, 4, 0, List.of("all-linear"), false, null, true, LoraBias.ALL,
                LoraInit.KAIMING_UNIFORM);
        LlamaWeights base = TinyRandomLlama.weights(TinyRandomLlama.QWEN2, 3);
        LoraModel dora = LoraModel.create(settings, TinyRandomLlama.QWEN2, base, 5);
        TrainableLlama model = TrainableLlama.create(TinyRandomLlama.QWEN2, base, name -> false, dora.sites());
        TinyRandomLlama.perturb(model.parameters(), 0.2, 2);
        PackedSequence seq = TinyRandomLlama.packed(4);
        model.forwardBackward(seq, 1f);
        int checked = 0;
        for (Parameter p : model.parameters()) {
            boolean layer0 = p.name().contains("layers.0.");
            if (!layer0 || !(p.name().endsWith("lora_magnitude_vector") || p.name().endsWith(".bias"))) {
                continue;
            }
            for (int i = 0; i < p.size(); i += 3) {
                double fd = AdapterChecks.centralDifference(model, seq, p, i);
                assertEquals(fd, p.grad()[i], 1e-2 * Math.max(0.1, Math.abs(fd)), p.name() + "[" + i + "]");
                checked++;
            }
        }
        assertTrue(checked > 20, "checked " + checked);
    }
}
