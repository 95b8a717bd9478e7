package dev.tailor.adapt.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.Parameter;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** New LoRA adapters: identity at init, PEFT's config keys, and a save→load round trip with equal logits. */
class PeftLoraRoundTripTest {
    private static final List<String> PEFT_KEYS = List.of("alpha_pattern", "auto_mapping", "base_model_name_or_path",
            "bias", "fan_in_fan_out", "inference_mode", "init_lora_weights", "layer_replication", "layers_pattern",
            "layers_to_transform", "loftq_config", "lora_alpha", "lora_dropout", "megatron_config", "megatron_core",
            "modules_to_save", "peft_type", "r", "rank_pattern", "revision", "target_modules", "task_type", "use_dora",
            "use_rslora");

    @Test
    void freshAdaptersAreTheIdentityAndRoundTripThroughPeftFiles(@TempDir Path dir) throws Exception {
        LoraConfig settings = new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "down_proj"), true, List.of(1));
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"));
             SafetensorsFile g = SafetensorsFile.open(Shared.require("golden/tiny-llama/forward.safetensors"))) {
            PackedSequence seq = GoldenTensors.batch(g).getFirst();
            Map<String, LoraLayer> fresh = LoraFiles.create(settings, base.config(), 7);
            assertEquals(3, fresh.size());
            TrainableLlama plain = TrainableLlama.create(base.config(), base.weights(), name -> false);
            TrainableLlama adapted = TrainableLlama.create(base.config(), base.weights(), name -> false,
                    AdapterSites.ofLinear(fresh));
            assertEquals(1, adapted.stopLayer());
            assertArrayEquals(plain.logits(seq), adapted.logits(seq), "B = 0: the adapter starts as the identity");

            SplittableRandom rnd = new SplittableRandom(1);
            for (Parameter p : adapted.parameters()) {
                for (int i = 0; i < p.size(); i++) {
                    p.data()[i] += (float) rnd.nextDouble(-0.05, 0.05);
                }
            }
            float[] trained = adapted.logits(seq);
            assertTrue(maxDiff(plain.logits(seq), trained) > 1e-4, "the perturbed adapter changes the logits");

            LoraFiles.save(dir, settings, fresh, "tiny-llama", "sha256:abc");
            JsonNode config = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
            List<String> keys = new ArrayList<>();
            config.fieldNames().forEachRemaining(keys::add);
            assertEquals(PEFT_KEYS, keys);
            assertEquals("[1]", config.get("layers_to_transform").toString());
            assertEquals("sha256:abc", LoraFiles.baseFingerprint(dir));

            Map<String, LoraLayer> loaded = LoraFiles.load(dir);
            assertEquals(fresh.keySet(), loaded.keySet());
            loaded.values().forEach(a -> assertEquals((float) (8 / Math.sqrt(4)), a.scale()));
            TrainableLlama reloaded = TrainableLlama.create(base.config(), base.weights(), name -> false,
                    AdapterSites.ofLinear(loaded));
            assertArrayEquals(trained, reloaded.logits(seq));
        }
    }

    @Test
    void anAdapterForAnotherShapeIsRefused() {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            LoraLayer wrong = LoraLayer.create("model.layers.0.self_attn.q_proj", 64, 32, 4, 8, false,
                    new SplittableRandom(1));
            var e = assertThrows(IllegalArgumentException.class, () -> TrainableLlama.create(base.config(),
                    base.weights(), name -> false, AdapterSites.ofLinear(Map.of("model.layers.0.self_attn.q_proj", wrong))));
            assertTrue(e.getMessage().contains("q_proj") && e.getMessage().contains("[64, 32]")
                    && e.getMessage().contains("[64, 64]"), e.getMessage());
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
