package dev.tailor.adapt;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.tensor.Parameter;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What PEFT's prompt-learning methods (prompt tuning, prefix tuning) share: one tensor {@code prompt_embeddings}
 * in {@code adapter_model.safetensors} and the config keys of PEFT's {@code PromptLearningConfig}. The shapes a
 * model needs of them are {@link dev.tailor.model.VirtualTokens}'.
 */
public final class PromptLearning {
    /** The one tensor PEFT saves for prompt learning methods. */
    public static final String TENSOR = "prompt_embeddings";

    private PromptLearning() {
    }

    /**
     * The PEFT config keys every prompt-learning method writes ({@code PeftConfig} and {@code PromptLearningConfig}),
     * sorted; a method adds its own.
     */
    public static Map<String, Object> configKeys(String peftType, String baseModel, int numVirtualTokens, int tokenDim,
                                                 int numLayers, int numAttentionHeads) {
        Map<String, Object> config = new TreeMap<>();
        config.put("auto_mapping", null);
        config.put("base_model_name_or_path", baseModel);
        config.put("inference_mode", true);
        config.put("num_attention_heads", numAttentionHeads);
        config.put("num_layers", numLayers);
        config.put("num_transformer_submodules", 1);
        config.put("num_virtual_tokens", numVirtualTokens);
        config.put("peft_type", peftType);
        config.put("revision", null);
        config.put("task_type", "CAUSAL_LM");
        config.put("token_dim", tokenDim);
        return config;
    }

    /** {@code tensor}'s values under the saved name {@code prompt_embeddings}. */
    public static List<Parameter> saved(Parameter tensor) {
        return List.of(new Parameter(TENSOR, tensor.shape(), tensor.data()));
    }

    /**
     * Reads {@code prompt_embeddings} of {@code dir} as a float32 parameter and checks it against the config's
     * {@code num_virtual_tokens} and the row width {@code width} the config implies.
     *
     * @param widthName how the config's keys give the width, for messages
     * @throws TensorFormatException naming the file, the expected and the actual shape
     */
    public static Parameter read(Path dir, JsonNode config, int width, String widthName) {
        Path file = dir.resolve("adapter_model.safetensors");
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            if (!st.contains(TENSOR)) {
                throw new TensorFormatException(file + ": no " + TENSOR + " tensor (has " + st.names() + ")");
            }
            TensorInfo info = st.info(TENSOR);
            long[] shape = info.shape();
            int virtual = AdapterConfigFields.of(dir, config).integer("num_virtual_tokens", 1, -1);
            if (shape.length != 2 || !info.dtype().isWeightType() || shape[1] != width
                    || (virtual >= 0 && shape[0] != virtual)) {
                throw new TensorFormatException(file + ": " + TENSOR + " must be a float tensor of shape ["
                        + (virtual >= 0 ? virtual : "num_virtual_tokens") + ", " + width + "] (num_virtual_tokens, "
                        + widthName + " from adapter_config.json), is " + info.dtype() + info.shapeString());
            }
            return AdapterFiles.readParameter(st, TENSOR, 2);
        }
    }

    /**
     * The typed fields of a prompt-learning {@code adapter_config.json} of {@code type}, once the keys every such
     * method checks the same way are checked: {@code peft_type} and {@code num_transformer_submodules} (1 for a
     * causal LM).
     *
     * @throws IllegalArgumentException naming the file and key when one of them is wrong
     */
    public static AdapterConfigFields fields(Path dir, JsonNode json, String type) {
        AdapterConfigFields fields = AdapterConfigFields.ofType(dir, json, type);
        if (fields.integer("num_transformer_submodules", 0, 1) != 1) {
            throw new IllegalArgumentException(fields.file() + ": num_transformer_submodules must be 1 for a causal LM, is "
                    + json.get("num_transformer_submodules"));
        }
        return fields;
    }

    /**
     * A positive integer key of an adapter config.
     *
     * @throws IllegalArgumentException naming the file and key when it is missing or not a positive integer
     */
    public static int positive(Path dir, JsonNode config, String key) {
        JsonNode n = config.get(key);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 1) {
            throw new IllegalArgumentException(dir.resolve("adapter_config.json") + ": " + key
                    + " must be a positive integer, is " + n);
        }
        return n.asInt();
    }
}
