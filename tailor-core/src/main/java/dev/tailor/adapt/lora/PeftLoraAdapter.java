package dev.tailor.adapt.lora;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.io.AtomicFiles;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import dev.tailor.tokenizer.PythonJson;
import dev.tailor.train.Parameter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Creates, saves and reads PEFT LoRA adapter directories ({@code adapter_config.json} + {@code adapter_model.safetensors}) into
 * one {@link LoraAdapter} per targeted module, keyed by the module's name in the model
 * ({@code model.layers.0.self_attn.q_proj}). Tensor names are PEFT's
 * ({@code base_model.model.<module>.lora_A.weight}, with or without an adapter name such as {@code .default});
 * the scale of each module is {@code alpha / r} (or {@code alpha / sqrt(r)} with {@code use_rslora}), with
 * {@code alpha_pattern} and {@code rank_pattern} overriding per module. Unknown config keys are ignored.
 */
public final class PeftLoraAdapter {
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
        return loadModel(dir, AdapterFiles.config(dir)).modules();
    }

    /**
     * Loads the adapter at {@code dir} whose parsed {@code adapter_config.json} is {@code config}, with its options;
     * modules whose rank or alpha differs from the config's {@code r} / {@code lora_alpha} are listed in the model's
     * patterns under their full names, so saving it again keeps every module's scale.
     *
     * @throws IllegalArgumentException naming the file and key when it is not a LoRA adapter Tailor supports
     * @throws TensorFormatException    naming the file and tensor when A and B are missing or do not match
     */
    public static LoraModel loadModel(Path dir, JsonNode config) {
        Path configFile = dir.resolve("adapter_config.json");
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
        Map<String, Double> alphas = new TreeMap<>();
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
                alphas.put(module, moduleAlpha);
            }
        }
        if (adapters.isEmpty()) {
            throw new TensorFormatException(weights + ": no lora_A/lora_B tensors found");
        }
        LoraSettings settings = settings(config, adapters);
        Map<String, Integer> rankPattern = new TreeMap<>();
        Map<String, Double> alphaPattern = new TreeMap<>();
        adapters.forEach((module, a) -> {
            if (a.rank() != settings.r()) {
                rankPattern.put(module, a.rank());
            }
            if (alphas.get(module) != settings.loraAlpha()) {
                alphaPattern.put(module, alphas.get(module));
            }
        });
        return new LoraModel(settings, adapters, rankPattern, alphaPattern);
    }

    /** The options a loaded adapter is saved again with: the config's, targets as found in the file. */
    private static LoraSettings settings(JsonNode config, Map<String, LoraAdapter> adapters) {
        java.util.Set<String> targets = new java.util.TreeSet<>();
        for (String module : adapters.keySet()) {
            targets.add(module.substring(module.lastIndexOf('.') + 1));
        }
        java.util.List<Integer> layers = null;
        if (config.path("layers_to_transform").isArray()) {
            layers = new java.util.ArrayList<>();
            for (JsonNode n : config.get("layers_to_transform")) {
                layers.add(n.asInt());
            }
        }
        int r = config.path("r").asInt(adapters.values().iterator().next().rank());
        return new LoraSettings(r, config.path("lora_alpha").asDouble(8), 0, java.util.List.copyOf(targets),
                config.path("use_rslora").asBoolean(false), layers);
    }

    /**
     * Fresh adapters for every target of {@code settings} in {@code config}, with PEFT's default initialisation
     * (see {@link LoraAdapter#create}), seeded.
     */
    public static Map<String, LoraAdapter> create(LoraSettings settings, ModelConfig config, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, LoraAdapter> adapters = new TreeMap<>();
        for (String module : settings.modules(config)) {
            int[] shape = LoraSettings.shape(config, module);
            adapters.put(module, LoraAdapter.create(module, shape[0], shape[1], settings.r(), settings.loraAlpha(),
                    settings.useRslora(), rnd));
        }
        return adapters;
    }

    /**
     * Saves adapters in PEFT's layout: {@code adapter_config.json} with the keys PEFT writes for LoRA (sorted,
     * indented by 2, as Python's {@code json.dumps}) and {@code adapter_model.safetensors} with PEFT's tensor names;
     * the base's fingerprint goes into the safetensors metadata ({@code tailor.base_fingerprint}) so the config keeps
     * exactly PEFT's keys. Both files are written atomically.
     */
    public static void save(Path dir, LoraSettings settings, Map<String, LoraAdapter> adapters, String baseModel,
                            String baseFingerprint) {
        save(dir, settings, adapters, baseModel, baseFingerprint, Map.of(), Map.of());
    }

    /**
     * Like {@link #save(Path, LoraSettings, Map, String, String)}, with PEFT's per-module overrides: a module
     * whose rank or alpha differs from the config's is listed in {@code rank_pattern} / {@code alpha_pattern}
     * under its full name.
     */
    public static void save(Path dir, LoraSettings settings, Map<String, LoraAdapter> adapters, String baseModel,
                            String baseFingerprint, Map<String, Integer> rankPattern, Map<String, Double> alphaPattern) {
        Map<String, Object> config = new TreeMap<>();
        Map<String, Object> alphas = new TreeMap<>();
        alphaPattern.forEach((k, v) -> alphas.put(k, whole(v)));
        config.put("alpha_pattern", alphas);
        config.put("auto_mapping", null);
        config.put("base_model_name_or_path", baseModel);
        config.put("bias", "none");
        config.put("fan_in_fan_out", false);
        config.put("inference_mode", true);
        config.put("init_lora_weights", true);
        config.put("layer_replication", null);
        config.put("layers_pattern", null);
        config.put("layers_to_transform", settings.layersToTransform());
        config.put("loftq_config", Map.of());
        config.put("lora_alpha", whole(settings.loraAlpha()));
        config.put("lora_dropout", settings.loraDropout());
        config.put("megatron_config", null);
        config.put("megatron_core", "megatron.core");
        config.put("modules_to_save", null);
        config.put("peft_type", "LORA");
        config.put("r", settings.r());
        config.put("rank_pattern", new TreeMap<>(rankPattern));
        config.put("revision", null);
        config.put("target_modules", settings.projections());
        config.put("task_type", "CAUSAL_LM");
        config.put("use_dora", false);
        config.put("use_rslora", settings.useRslora());
        String json = PythonJson.of(false, 2, null, true).dumps(config);
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
        if (baseFingerprint != null) {
            writer.metadata("tailor.base_fingerprint", baseFingerprint);
        }
        for (LoraAdapter a : adapters.values()) {
            for (Parameter p : a.parameters()) {
                writer.add(p.name(), DType.F32, p.shape(), p.data());
            }
        }
        try {
            Files.createDirectories(dir);
            writer.write(dir.resolve("adapter_model.safetensors"));
            byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
            AtomicFiles.write(dir.resolve("adapter_config.json"), ch -> ch.write(ByteBuffer.wrap(bytes)));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot save the adapter: " + e.getMessage(), e);
        }
    }

    /** The base fingerprint an adapter file records, or null. */
    public static String baseFingerprint(Path dir) {
        return AdapterFiles.baseFingerprint(dir);
    }

    private static Object whole(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? (Object) (long) v : (Object) v;
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
