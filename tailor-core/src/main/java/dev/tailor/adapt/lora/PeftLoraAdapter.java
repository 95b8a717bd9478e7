package dev.tailor.adapt.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.tensor.Numerics;
import dev.tailor.train.Parameter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads a PEFT LoRA adapter directory ({@code adapter_config.json} + {@code adapter_model.safetensors}) into
 * one {@link LoraAdapter} per targeted module, keyed by the module's name in the model
 * ({@code model.layers.0.self_attn.q_proj}). Tensor names are PEFT's
 * ({@code base_model.model.<module>.lora_A.weight}, with or without an adapter name such as {@code .default});
 * the scale of each module is {@code alpha / r} (or {@code alpha / sqrt(r)} with {@code use_rslora}), with
 * {@code alpha_pattern} and {@code rank_pattern} overriding per module. Unknown config keys are ignored.
 */
public final class PeftLoraAdapter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = "base_model.model.";
    private static final Pattern A_NAME = Pattern.compile("(.+)\\.lora_A(?:\\.[A-Za-z0-9_]+)?\\.weight");

    private PeftLoraAdapter() {
    }

    /**
     * Loads the adapter at {@code dir}; its parameters are float32 copies named as in the file.
     *
     * @throws IllegalArgumentException naming the file and key when it is not a LoRA adapter Tailor supports
     * @throws TensorFormatException    naming the file and tensor when A and B are missing or do not match
     */
    public static Map<String, LoraAdapter> load(Path dir) {
        Path configFile = dir.resolve("adapter_config.json");
        JsonNode config;
        try {
            config = JSON.readTree(Files.readAllBytes(configFile));
        } catch (IOException e) {
            throw new IllegalArgumentException(configFile + ": cannot read the adapter config: " + e.getMessage(), e);
        }
        String type = config.path("peft_type").asText("");
        if (!type.equals("LORA")) {
            throw new IllegalArgumentException(configFile + ": peft_type \"" + type + "\" is not LORA");
        }
        if (config.path("use_dora").asBoolean(false)) {
            throw new IllegalArgumentException(configFile + ": use_dora true is not supported yet");
        }
        double alpha = config.path("lora_alpha").asDouble(8);
        boolean rslora = config.path("use_rslora").asBoolean(false);
        Map<String, LoraAdapter> adapters = new TreeMap<>();
        Path weights = dir.resolve("adapter_model.safetensors");
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            for (String name : file.names()) {
                var m = A_NAME.matcher(name);
                if (!m.matches() || !name.startsWith(PREFIX)) {
                    continue;
                }
                String module = m.group(1).substring(PREFIX.length());
                String bName = name.replace(".lora_A", ".lora_B");
                if (!file.contains(bName)) {
                    throw new TensorFormatException(weights + ": " + name + " has no matching " + bName);
                }
                Parameter a = parameter(file, name);
                Parameter b = parameter(file, bName);
                int r = (int) a.shape()[0];
                double moduleAlpha = pattern(config.get("alpha_pattern"), module, alpha);
                float scale = (float) (rslora ? moduleAlpha / Math.sqrt(r) : moduleAlpha / r);
                adapters.put(module, new LoraAdapter(a, b, scale));
            }
        }
        if (adapters.isEmpty()) {
            throw new TensorFormatException(weights + ": no lora_A/lora_B tensors found");
        }
        return adapters;
    }

    private static Parameter parameter(SafetensorsFile file, String name) {
        TensorInfo info = file.info(name);
        if (info.shape().length != 2 || !info.dtype().isWeightType()) {
            throw new TensorFormatException(file.path() + ": " + name + " must be a 2-D float tensor, is "
                    + info.dtype() + info.shapeString());
        }
        var data = file.data(name);
        float[] values = new float[Math.toIntExact(info.elementCount())];
        for (int i = 0; i < values.length; i++) {
            values[i] = Numerics.load(data, info.dtype(), i);
        }
        return new Parameter(name, info.shape(), values);
    }

    /** PEFT's per-module override: the value of the first key the module name ends with (as {@code .key}). */
    private static double pattern(JsonNode patterns, String module, double fallback) {
        if (patterns == null || !patterns.isObject()) {
            return fallback;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = patterns.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (module.equals(e.getKey()) || module.matches(".*\\." + e.getKey() + "$")) {
                return e.getValue().asDouble();
            }
        }
        return fallback;
    }
}
