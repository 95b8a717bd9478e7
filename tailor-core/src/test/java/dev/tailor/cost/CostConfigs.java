package dev.tailor.cost;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.model.ModelConfig;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.TrainingMethod;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Published models' configs as the cost model reads them (none of their weights is needed), and methods to cost. */
final class CostConfigs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CostConfigs() {
    }

    /**
     * GPT-3 175B's shape (Brown et al., 2020, Table 2.1: 96 layers, d_model 12288, 96 heads of 128) as a Llama-style
     * config. The architectures differ: GPT-3's MLP is two matrices of 4·d (8·d² weights), here SwiGLU's three of
     * 32768 = 8/3·d (the same 8·d²); it has learned positions, biases and LayerNorm, here RoPE, no biases and RMSNorm;
     * its 50257-token embedding is tied to its output.
     */
    static CostBase gpt3() {
        return base(Map.of("hidden_size", 12288, "intermediate_size", 32768, "num_hidden_layers", 96,
                "num_attention_heads", 96, "vocab_size", 50257, "max_position_embeddings", 2048,
                "tie_word_embeddings", true, "torch_dtype", "float16"), "gpt3-175b");
    }

    /** LLaMA-65B (Touvron et al., 2023): 80 layers, d 8192, 64 heads, SwiGLU 22016, vocabulary 32000. */
    static CostBase llama65b() {
        return base(Map.of("hidden_size", 8192, "intermediate_size", 22016, "num_hidden_layers", 80,
                "num_attention_heads", 64, "vocab_size", 32000, "max_position_embeddings", 2048,
                "torch_dtype", "float16"), "huggyllama/llama-65b");
    }

    /** Llama-2-7B: 32 layers, d 4096, 32 heads, SwiGLU 11008, vocabulary 32000, 4096 positions. */
    static CostBase llama7b() {
        return base(Map.of("hidden_size", 4096, "intermediate_size", 11008, "num_hidden_layers", 32,
                "num_attention_heads", 32, "vocab_size", 32000, "max_position_embeddings", 4096,
                "torch_dtype", "float16"), "meta-llama/Llama-2-7b-hf");
    }

    /** A small Llama whose every width is a multiple of 16: 4 layers, d 256, 8 heads of 32, 4 KV heads, F32. */
    static CostBase small() {
        return base(Map.of("hidden_size", 256, "intermediate_size", 688, "num_hidden_layers", 4,
                "num_attention_heads", 8, "num_key_value_heads", 4, "vocab_size", 8000, "max_position_embeddings",
                2048, "torch_dtype", "float32"), "small");
    }

    private static CostBase base(Map<String, Object> fields, String name) {
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("model_type", "llama");
        all.put("rms_norm_eps", 1e-5);
        all.putAll(fields);
        ObjectNode json = JSON.valueToTree(all);
        ModelConfig config = ModelConfig.parse(Path.of(name, "config.json"), json);
        return new CostBase(config, json, name, null);
    }

    /** Full fine-tuning. */
    static TrainingMethod full() {
        return TrainingMethod.of("full", null, Map.of());
    }

    /** Partial fine-tuning of {@code plan}. */
    static TrainingMethod partial(FreezePlan plan) {
        return TrainingMethod.of("partial", plan, Map.of());
    }

    /** The registered adapter method {@code name} with these options (values as the command line gives them). */
    static TrainingMethod method(String name, String... optionsAndValues) {
        Map<String, List<String>> given = new LinkedHashMap<>();
        for (int i = 0; i < optionsAndValues.length; i += 2) {
            given.put(optionsAndValues[i], List.of(optionsAndValues[i + 1].split(",")));
        }
        return TrainingMethod.of(name, null, given);
    }

    /** The H100 profile. */
    static HardwareProfile h100() {
        return HardwareProfiles.builtIn().get("H100", () -> {
            throw new AssertionError("not this machine");
        });
    }
}
