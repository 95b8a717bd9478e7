package dev.tailor.adapt.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.model.VirtualTokens;
import dev.tailor.adapt.prefix.PrefixTuningModel;
import dev.tailor.adapt.prefix.PrefixTuningConfig;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.io.TensorFormatException;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompt and prefix tuning in PEFT's files: exact round trips, PEFT's config keys and values (GQA-aware for prefix
 * tuning), and files whose shapes do not fit refused with the file, the expected and the actual shape.
 */
class PromptLearningFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The tiny Llama's shape: hidden 64, 2 layers, 4 heads, 2 KV heads of 16. */
    private static final ModelConfig MODEL = new ModelConfig("llama", 64, 176, 2, 4, 2, 16, 1e-5, 10000.0, null,
            32000, 256, false, false, false, 1, List.of(2));

    @TempDir
    Path dir;

    private static List<String> keys(JsonNode node) {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void promptTuningRoundTripsExactlyWithPeftsKeys() throws Exception {
        PromptTuningModel prompt = PromptTuningModel.create(PromptTuningConfig.forModel(MODEL, 12, PromptTuningInit.RANDOM, null,
                null), null, null, 5);
        prompt.save(dir, "models/tiny-llama", "abc123");
        String text = Files.readString(dir.resolve("adapter_config.json"));
        JsonNode json = JSON.readTree(text);
        assertEquals(List.of("auto_mapping", "base_model_name_or_path", "inference_mode", "num_attention_heads",
                "num_layers", "num_transformer_submodules", "num_virtual_tokens", "peft_type", "prompt_tuning_init",
                "prompt_tuning_init_text", "revision", "task_type", "token_dim", "tokenizer_kwargs",
                "tokenizer_name_or_path"), keys(json));
        assertTrue(text.startsWith("{\n  \"auto_mapping\": null,\n"), text);
        assertEquals("PROMPT_TUNING", json.get("peft_type").asText());
        assertEquals(12, json.get("num_virtual_tokens").asInt());
        assertEquals(64, json.get("token_dim").asInt());
        assertEquals(2, json.get("num_layers").asInt());
        assertEquals(4, json.get("num_attention_heads").asInt());
        assertEquals(1, json.get("num_transformer_submodules").asInt());
        assertEquals("RANDOM", json.get("prompt_tuning_init").asText());
        assertEquals("CAUSAL_LM", json.get("task_type").asText());
        assertTrue(json.get("inference_mode").asBoolean());
        try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(java.util.Set.of("prompt_embeddings"), file.names());
            assertEquals(DType.F32, file.info("prompt_embeddings").dtype());
            assertArrayEquals(new long[] {12, 64}, file.info("prompt_embeddings").shape());
            assertEquals("abc123", file.metadata().get("tailor.base_fingerprint"));
        }
        Adapter loaded = AdapterFiles.load(dir);
        PromptTuningModel back = assertInstanceOf(PromptTuningModel.class, loaded);
        assertEquals(prompt.config(), back.config());
        assertArrayEquals(prompt.embeddings().data(), back.embeddings().data());
        assertEquals(12, back.sites().virtualTokens());
    }

    @Test
    void textInitIsRecordedAsPeftRecordsIt() throws Exception {
        PromptTuningConfig config = new PromptTuningConfig(4, 64, 2, 4, PromptTuningInit.TEXT, "Classify:", "tiny");
        new PromptTuningModel(config, new Parameter("prompt_embeddings", new long[] {4, 64}, new float[256]))
                .save(dir, "tiny", null);
        JsonNode json = JSON.readTree(dir.resolve("adapter_config.json").toFile());
        assertEquals("TEXT", json.get("prompt_tuning_init").asText());
        assertEquals("Classify:", json.get("prompt_tuning_init_text").asText());
        assertEquals("tiny", json.get("tokenizer_name_or_path").asText());
        assertEquals(config, ((PromptTuningModel) AdapterFiles.load(dir)).config());
    }

    @Test
    void prefixTuningRoundTripsExactlyWithPeftsGqaKeys() throws Exception {
        PrefixTuningModel prefix = PrefixTuningModel.create(PrefixTuningConfig.forModel(MODEL, 6), 8);
        assertArrayEquals(new long[] {6, 2 * 2 * 32}, prefix.prefix().shape(), "layers·2·kvHeads·headDim");
        prefix.save(dir, "models/tiny-llama", null);
        JsonNode json = JSON.readTree(dir.resolve("adapter_config.json").toFile());
        assertEquals(List.of("auto_mapping", "base_model_name_or_path", "encoder_hidden_size", "inference_mode",
                "num_attention_heads", "num_layers", "num_transformer_submodules", "num_virtual_tokens", "peft_type",
                "prefix_projection", "revision", "task_type", "token_dim"), keys(json));
        assertEquals("PREFIX_TUNING", json.get("peft_type").asText());
        assertEquals(32, json.get("token_dim").asInt(), "kv heads · head dim");
        assertEquals(2, json.get("num_attention_heads").asInt(), "the KV heads");
        assertEquals(32, json.get("encoder_hidden_size").asInt());
        assertEquals(false, json.get("prefix_projection").asBoolean());
        PrefixTuningModel back = assertInstanceOf(PrefixTuningModel.class, AdapterFiles.load(dir));
        assertEquals(prefix.config(), back.config());
        assertArrayEquals(prefix.prefix().data(), back.prefix().data());
    }

    @Test
    void aTensorThatContradictsItsConfigIsRefusedNamingTheFile() throws Exception {
        PromptTuningModel.create(PromptTuningConfig.forModel(MODEL, 4, PromptTuningInit.RANDOM, null, null), null, null, 1)
                .save(dir, "tiny", null);
        new SafetensorsWriter().add("prompt_embeddings", DType.F32, new long[] {4, 32}, new float[128])
                .write(dir.resolve("adapter_model.safetensors"));
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> AdapterFiles.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("adapter_model.safetensors").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("[4, 64]") && e.getMessage().contains("[4, 32]"), e.getMessage());
    }

    @Test
    void anAdapterForAnotherModelIsRefusedWithBothShapes() {
        ModelConfig other = new ModelConfig("llama", 32, 176, 3, 4, 4, 8, 1e-5, 10000.0, null, 32000, 256, false,
                false, false, 1, List.of(2));
        PrefixTuningModel prefix = PrefixTuningModel.create(PrefixTuningConfig.forModel(other, 6), 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VirtualTokens.check(MODEL, null, prefix.prefix()));
        assertTrue(e.getMessage().contains("[6, 192]") && e.getMessage().contains("[num_virtual_tokens, 128]"),
                e.getMessage());
        PromptTuningModel prompt = PromptTuningModel.create(PromptTuningConfig.forModel(other, 3, PromptTuningInit.RANDOM, null,
                null), null, null, 1);
        e = assertThrows(IllegalArgumentException.class, () -> VirtualTokens.check(MODEL, prompt.embeddings(), null));
        assertTrue(e.getMessage().contains("[3, 32]") && e.getMessage().contains("[num_virtual_tokens, 64]"),
                e.getMessage());
    }
}
