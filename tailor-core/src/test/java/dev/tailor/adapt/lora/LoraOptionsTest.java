package dev.tailor.adapt.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.AdapterMerge;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PEFT's bias modes, init_lora_weights and target_modules forms. */
class LoraOptionsTest {
    private static final ModelConfig QWEN2 = TinyRandomLlama.QWEN2;
    private final LlamaWeights base = TinyRandomLlama.weights(QWEN2, 3);
    private final PackedSequence seq = TinyRandomLlama.packed(4);

    private static LoraConfig settings(List<String> targets, List<Integer> layers, LoraBias bias, LoraInit init) {
        return new LoraConfig(4, 8, 0, targets, false, layers, false, bias, init);
    }

    @Test
    void biasModesTrainTheBiasesPeftTrainsAndSaveThemUnderItsNames(@TempDir Path dir) throws Exception {
        List<String> qv = List.of("q_proj", "v_proj");
        assertTrue(LoraModel.create(settings(qv, null, LoraBias.NONE, LoraInit.KAIMING_UNIFORM), QWEN2, base, 1)
                .biases().isEmpty());
        LoraModel loraOnly = LoraModel.create(settings(qv, null, LoraBias.LORA_ONLY, LoraInit.KAIMING_UNIFORM),
                QWEN2, base, 1);
        assertEquals(Set.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"), loraOnly.biases().keySet());
        LoraModel all = LoraModel.create(settings(qv, null, LoraBias.ALL, LoraInit.KAIMING_UNIFORM), QWEN2, base, 1);
        assertEquals(6, all.biases().size(), "q, k and v of both layers");
        assertEquals("base_model.model.model.layers.1.self_attn.q_proj.base_layer.bias",
                all.biases().get("model.layers.1.self_attn.q_proj").name(), "a targeted linear's wrapped bias");
        assertEquals("base_model.model.model.layers.1.self_attn.k_proj.bias",
                all.biases().get("model.layers.1.self_attn.k_proj").name(), "an untargeted linear's own bias");
        assertArrayEquals(base.layers().get(1).kBias(), all.biases().get("model.layers.1.self_attn.k_proj").data());

        TrainableLlama plain = TrainableLlama.create(QWEN2, base, name -> false);
        TrainableLlama adapted = TrainableLlama.create(QWEN2, base, name -> false, all.sites());
        float[] before = plain.logits(seq);
        assertArrayEquals(before, adapted.logits(seq), "the trained biases start as the base's");
        assertEquals(4 * 2 + 6, adapted.parameters().size());
        TinyRandomLlama.perturb(adapted.parameters(), 0.1, 3);
        float[] trained = adapted.logits(seq);
        assertTrue(TinyRandomLlama.maxDiff(before, trained) > 1e-3);

        all.save(dir, "qwen2-tiny", null);
        JsonNode config = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
        assertEquals("all", config.get("bias").asText());
        Adapter loaded = AdapterFiles.load(dir);
        assertArrayEquals(trained, TrainableLlama.create(QWEN2, base, name -> false, loaded.sites()).logits(seq),
                "the saved biases replace the base's on load");
        LlamaWeights merged = AdapterMerge.merge(base, List.of(loaded.sites()));
        assertArrayEquals(all.biases().get("model.layers.0.self_attn.k_proj").data(), merged.layers().get(0).kBias());
        assertTrue(TinyRandomLlama.maxDiff(trained, TrainableLlama.create(QWEN2, merged, name -> false)
                .logits(seq)) < 2e-5, "merged vs adapted");
        assertArrayEquals(before, plain.logits(seq), "the base is untouched");

        adapted.parameters().forEach(Parameter::zeroGrad);
        adapted.forwardBackward(seq, 1f);
        Parameter k0 = all.biases().get("model.layers.0.self_attn.k_proj");
        float saved = k0.data()[1];
        k0.data()[1] = saved + 1e-2f;
        double plus = adapted.loss(seq).nllSum();
        k0.data()[1] = saved - 1e-2f;
        double minus = adapted.loss(seq).nllSum();
        k0.data()[1] = saved;
        assertEquals((plus - minus) / 2e-2, k0.grad()[1], 1e-2 * Math.max(0.1, Math.abs((plus - minus) / 2e-2)));
    }

    @Test
    void gaussianInitDrawsAWithSigmaOneOverRAndBZero(@TempDir Path dir) throws Exception {
        ModelConfig big = new ModelConfig("llama", 256, 512, 1, 4, 2, 64, 1e-5, 10000.0, null, 50, 64, false, false,
                false, 1, List.of(2));
        LoraConfig s = new LoraConfig(8, 16, 0, List.of("all-linear"), false, null, false, LoraBias.NONE,
                LoraInit.GAUSSIAN);
        LoraModel m = LoraModel.create(s, big, 9);
        double sum = 0;
        double sq = 0;
        long n = 0;
        for (LoraLayer pair : m.modules().values()) {
            for (float v : pair.parameters().get(0).data()) {
                sum += v;
                sq += (double) v * v;
                n++;
            }
            for (float v : pair.parameters().get(1).data()) {
                assertEquals(0f, v);
            }
        }
        double mean = sum / n;
        double std = Math.sqrt(sq / n - mean * mean);
        assertEquals(0, mean, 3e-3, "mean");
        assertEquals(1.0 / 8, std, 2e-3, "σ = 1/r");
        LoraModel kaiming = LoraModel.create(new LoraConfig(8, 16, 0, List.of("q_proj"), false, null), big, 9);
        float bound = (float) (1 / Math.sqrt(256));
        for (float v : kaiming.modules().values().iterator().next().parameters().get(0).data()) {
            assertTrue(Math.abs(v) <= bound, "Kaiming-uniform stays within 1/sqrt(in)");
        }
        m.save(dir, "big", null);
        assertEquals("\"gaussian\"", new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile())
                .get("init_lora_weights").toString());
    }

    @Test
    void targetModulesAsNamesRegexOrAllLinearMatchAsPeftDoes(@TempDir Path dir) throws Exception {
        assertEquals(List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                        "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"),
                settings(List.of(".*\\.(q|v)_proj"), List.of(1), LoraBias.NONE, LoraInit.KAIMING_UNIFORM)
                        .modules(QWEN2), "a regex is matched in full and ignores layers_to_transform");
        assertEquals(List.of("model.layers.1.mlp.up_proj"), settings(List.of("model.layers.1.mlp.up_proj"), null,
                LoraBias.NONE, LoraInit.KAIMING_UNIFORM).modules(QWEN2));
        assertEquals(List.of("model.layers.1.self_attn.o_proj"), settings(List.of("self_attn.o_proj"), List.of(1),
                LoraBias.NONE, LoraInit.KAIMING_UNIFORM).modules(QWEN2));
        assertEquals(14, settings(List.of("all-linear"), null, LoraBias.NONE, LoraInit.KAIMING_UNIFORM)
                .modules(QWEN2).size());
        assertTrue(settings(List.of("q_proj"), null, LoraBias.NONE, LoraInit.KAIMING_UNIFORM).targetRegex().isEmpty());
        var none = assertThrows(IllegalArgumentException.class, () -> settings(List.of("q_proj$"), null,
                LoraBias.NONE, LoraInit.KAIMING_UNIFORM).modules(QWEN2));
        assertTrue(none.getMessage().contains("matches no linear"), none.getMessage());
        var unknown = assertThrows(IllegalArgumentException.class, () -> settings(List.of("lm_head"), null,
                LoraBias.NONE, LoraInit.KAIMING_UNIFORM).modules(QWEN2));
        assertTrue(unknown.getMessage().contains("\"lm_head\""), unknown.getMessage());
        assertThrows(IllegalArgumentException.class, () -> settings(List.of("(q_proj"), null, LoraBias.NONE,
                LoraInit.KAIMING_UNIFORM));

        String regex = "model\\.layers\\.1\\..*_proj";
        LoraModel m = LoraModel.create(settings(List.of(regex), null, LoraBias.NONE, LoraInit.KAIMING_UNIFORM),
                QWEN2, 2);
        assertEquals(7, m.modules().size());
        m.save(dir, "qwen2-tiny", null);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(dir.resolve("adapter_config.json").toFile());
        assertEquals(regex, config.get("target_modules").textValue(), "a regex is saved as PEFT's string");
        LoraModel loaded = (LoraModel) AdapterFiles.load(dir);
        assertEquals(regex, loaded.settings().targetRegex().orElseThrow());
        assertNull(loaded.settings().layersToTransform());
        String other = ".*\\.1\\..*(proj)";
        config.put("target_modules", other);
        Files.writeString(dir.resolve("adapter_config.json"), json.writeValueAsString(config));
        assertEquals(other, ((LoraModel) AdapterFiles.load(dir)).settings().targetRegex().orElseThrow(),
                "a PEFT config whose target_modules is a regex loads");
        config.put("target_modules", ".*(q|v)_proj");
        Files.writeString(dir.resolve("adapter_config.json"), json.writeValueAsString(config));
        var contradicting = assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir));
        assertTrue(contradicting.getMessage().contains("target_modules \".*(q|v)_proj\" does not match "
                + "model.layers.1.mlp.down_proj"), "a regex that leaves out modules of the file is refused: "
                + contradicting.getMessage());
    }
}
