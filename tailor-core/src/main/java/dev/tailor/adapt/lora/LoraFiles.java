package dev.tailor.adapt.lora;

import java.util.Set;
import java.util.TreeSet;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.AdapterConfigFields;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorFormatException;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.Parameter;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Creates, saves and reads PEFT LoRA adapter directories ({@code adapter_config.json} + {@code adapter_model.safetensors}) into
 * one {@link LoraLayer} per targeted module, keyed by the module's name in the model
 * ({@code model.layers.0.self_attn.q_proj}). Tensor names are PEFT's
 * ({@code base_model.model.<module>.lora_A.weight}, with or without an adapter name such as {@code .default});
 * the scale of each module is {@code alpha / r} (or {@code alpha / sqrt(r)} with {@code use_rslora}), with
 * {@code alpha_pattern} and {@code rank_pattern} overriding per module. DoRA's magnitudes are
 * {@code base_model.model.<module>.lora_magnitude_vector} (PEFT drops the {@code .weight} of its module on save),
 * trained biases {@code base_model.model.<module>.base_layer.bias} on a targeted linear (PEFT's wrapped layer) and
 * {@code base_model.model.<module>.bias} on another. Unknown config keys are ignored.
 */
public final class LoraFiles {
    private static final String PREFIX = "base_model.model.";
    private static final Pattern A_NAME = Pattern.compile("(.+)\\.lora_A(?:\\.[A-Za-z0-9_]+)?\\.weight");
    private static final Pattern MAGNITUDE_NAME =
            Pattern.compile("(.+)\\.lora_magnitude_vector(?:\\.[A-Za-z0-9_]+)?(?:\\.weight)?");
    private static final Pattern BIAS_NAME = Pattern.compile("(.+?)(?:\\.base_layer)?\\.bias");

    private LoraFiles() {
    }

    /**
     * Loads the adapter at {@code dir}; its parameters are float32 copies named as in the file.
     *
     * @throws IllegalArgumentException naming the file and key when it is not a LoRA adapter Tailor supports
     * @throws TensorFormatException    naming the file and tensor when A and B are missing or do not match
     */
    public static Map<String, LoraLayer> load(Path dir) {
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
        AdapterConfigFields fields = AdapterConfigFields.ofType(dir, config, "LORA");
        if (fields.bool("lora_bias", false)) {
            throw new IllegalArgumentException(configFile + ": lora_bias true (a bias on lora_B) is not supported");
        }
        if (fields.bool("fan_in_fan_out", false)) {
            throw fields.error("fan_in_fan_out", "true is for GPT-2's Conv1D, not a Llama-family linear");
        }
        boolean dora = fields.bool("use_dora", false);
        double dropout = fields.number("lora_dropout", 0);
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException(configFile + ": lora_dropout must be in [0, 1), got " + dropout);
        }
        double alpha = fields.number("lora_alpha", 8);
        boolean rslora = fields.bool("use_rslora", false);
        Map<String, Double> alphaPatternIn = fields.numberMap("alpha_pattern");
        Map<String, String> aNames = new TreeMap<>();
        Map<String, LoraLayer> adapters = new TreeMap<>();
        Map<String, Double> alphas = new TreeMap<>();
        Map<String, Parameter> magnitudes = new TreeMap<>();
        Map<String, Parameter> biases = new TreeMap<>();
        Path weights = dir.resolve("adapter_model.safetensors");
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            for (String name : file.names()) {
                var mag = MAGNITUDE_NAME.matcher(name);
                var bias = BIAS_NAME.matcher(name);
                if (name.startsWith(PREFIX) && mag.matches()) {
                    magnitudes.put(mag.group(1).substring(PREFIX.length()), vector(file, name));
                } else if (name.startsWith(PREFIX) && !name.contains(".lora_") && bias.matches()) {
                    biases.put(bias.group(1).substring(PREFIX.length()), vector(file, name));
                }
            }
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
                String alphaKey = LoraPatterns.patternKey(alphaPatternIn.keySet(), module);
                double moduleAlpha = alphaKey == null ? alpha : alphaPatternIn.get(alphaKey);
                float scale = (float) (rslora ? moduleAlpha / Math.sqrt(r) : moduleAlpha / r);
                adapters.put(module, new LoraLayer(a, b, scale, dropout));
                alphas.put(module, moduleAlpha);
                aNames.put(module, name);
            }
        }
        if (adapters.isEmpty()) {
            throw new TensorFormatException(weights + ": no lora_A/lora_B tensors found");
        }
        checkRanks(fields, adapters, aNames, weights);
        fields.checkTargets(adapters.keySet(), weights, fields.integers("layers_to_transform", 0));
        if (!dora && !magnitudes.isEmpty()) {
            throw new TensorFormatException(weights + ": has " + magnitudes.keySet().iterator().next()
                    + ".lora_magnitude_vector but " + configFile.getFileName() + " does not set use_dora true");
        }
        for (String module : adapters.keySet()) {
            if (dora && !magnitudes.containsKey(module)) {
                throw new TensorFormatException(weights + ": use_dora is true but " + PREFIX + module
                        + ".lora_magnitude_vector is missing");
            }
        }
        for (Map.Entry<String, Parameter> e : magnitudes.entrySet()) {
            LoraLayer pair = adapters.get(e.getKey());
            if (pair == null || e.getValue().size() != pair.out()) {
                throw new TensorFormatException(weights + ": " + e.getValue().name() + " must be the ["
                        + (pair == null ? "out" : pair.out()) + "] magnitude of a LoRA pair of the same module");
            }
        }
        LoraConfig settings = settings(configFile, config, adapters);
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
        return new LoraModel(settings, adapters, magnitudes, biases, rankPattern, alphaPattern);
    }

    /**
     * Refuses a config whose {@code r} (or {@code rank_pattern} entry) contradicts the rank of a module's tensors:
     * the tensors' shapes would win and the config would be ignored.
     */
    private static void checkRanks(AdapterConfigFields fields, Map<String, LoraLayer> adapters,
                                   Map<String, String> aNames, Path weights) {
        Map<String, Integer> rankPattern = fields.integerMap("rank_pattern", 1);
        int r = fields.integer("r", 1, -1);
        adapters.forEach((module, a) -> {
            String key = LoraPatterns.patternKey(rankPattern.keySet(), module);
            int expected = key != null ? rankPattern.get(key) : r;
            if (expected >= 0 && a.rank() != expected) {
                throw fields.error(key != null ? "rank_pattern[\"" + key + "\"]" : "r", expected + " contradicts "
                        + aNames.get(module) + " of rank " + a.rank() + " in " + weights);
            }
        });
    }

    /**
     * The options a loaded adapter is saved again with: the config's, targets as found in the file unless the config
     * gives them as a regular expression.
     */
    private static LoraConfig settings(Path configFile, JsonNode config, Map<String, LoraLayer> adapters) {
        java.util.Set<String> targets = new java.util.TreeSet<>();
        for (String module : adapters.keySet()) {
            targets.add(module.substring(module.lastIndexOf('.') + 1));
        }
        JsonNode targetNode = config.path("target_modules");
        java.util.List<String> targetModules = targetNode.isTextual() && !targetNode.asText().equals("all-linear")
                ? java.util.List.of(targetNode.asText()) : java.util.List.copyOf(targets);
        JsonNode init = config.path("init_lora_weights");
        LoraInit initLoraWeights = init.isTextual() && init.asText().equals("gaussian")
                ? LoraInit.GAUSSIAN : LoraInit.KAIMING_UNIFORM;
        java.util.List<Integer> layers = null;
        if (config.path("layers_to_transform").isArray()) {
            layers = new java.util.ArrayList<>();
            for (JsonNode n : config.get("layers_to_transform")) {
                layers.add(n.asInt());
            }
        }
        int r = config.path("r").asInt(adapters.values().iterator().next().rank());
        try {
            return new LoraConfig(r, config.path("lora_alpha").asDouble(8), config.path("lora_dropout").asDouble(0),
                    targetModules, config.path("use_rslora").asBoolean(false), layers,
                    config.path("use_dora").asBoolean(false), LoraBias.parse(config.path("bias").asText("none")),
                    initLoraWeights);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * Fresh pairs for every target of {@code settings} in {@code config}, initialised as
     * {@code settings.initLoraWeights()} says (see {@link LoraLayer#create}), seeded.
     */
    public static Map<String, LoraLayer> create(LoraConfig settings, ModelConfig config, long seed) {
        return create(settings, LoraPatterns.NONE, config, seed);
    }

    /**
     * Like {@link #create(LoraConfig, ModelConfig, long)}, each module with the rank and alpha {@code patterns}
     * give it (PEFT's {@code rank_pattern} / {@code alpha_pattern}), so its scale is {@code alpha / r} (rsLoRA:
     * {@code alpha / sqrt(r)}) of its own rank and alpha.
     *
     * @throws IllegalArgumentException when a pattern key matches no target, or overlapping keys disagree (see
     *                                  {@link LoraPatterns#check})
     */
    public static Map<String, LoraLayer> create(LoraConfig settings, LoraPatterns patterns, ModelConfig config,
                                                  long seed) {
        List<String> modules = settings.modules(config);
        patterns.check(modules);
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, LoraLayer> adapters = new TreeMap<>();
        for (String module : modules) {
            int[] shape = LoraConfig.shape(config, module);
            adapters.put(module, LoraLayer.create(module, shape[0], shape[1], patterns.rank(module, settings.r()),
                    patterns.alpha(module, settings.loraAlpha()), settings.useRslora(), settings.initLoraWeights(),
                    settings.loraDropout(), rnd));
        }
        return adapters;
    }

    /**
     * Saves adapters in PEFT's layout: {@code adapter_config.json} with the keys PEFT writes for LoRA (sorted,
     * indented by 2, as Python's {@code json.dumps}) and {@code adapter_model.safetensors} with PEFT's tensor names;
     * the base's fingerprint goes into the safetensors metadata ({@code tailor.base_fingerprint}) so the config keeps
     * exactly PEFT's keys. Both files are written atomically.
     */
    public static void save(Path dir, LoraConfig settings, Map<String, LoraLayer> adapters, String baseModel,
                            String baseFingerprint) {
        save(dir, settings, adapters, baseModel, baseFingerprint, Map.of(), Map.of());
    }

    /**
     * Like {@link #save(Path, LoraConfig, Map, String, String)}, with PEFT's per-module overrides: a module
     * whose rank or alpha differs from the config's is listed in {@code rank_pattern} / {@code alpha_pattern}
     * under its full name.
     */
    public static void save(Path dir, LoraConfig settings, Map<String, LoraLayer> adapters, String baseModel,
                            String baseFingerprint, Map<String, Integer> rankPattern, Map<String, Double> alphaPattern) {
        save(dir, new LoraModel(settings, adapters, rankPattern, alphaPattern), baseModel, baseFingerprint);
    }

    /**
     * Saves a whole LoRA model in PEFT's layout: the config as above ({@code use_dora}, {@code bias},
     * {@code init_lora_weights}, {@code lora_dropout} and {@code target_modules} from its settings), its pairs, DoRA
     * magnitudes and trained biases under PEFT's names.
     */
    public static void save(Path dir, LoraModel model, String baseModel, String baseFingerprint) {
        model.save(dir, baseModel, baseFingerprint);
    }

    /** The {@code adapter_config.json} PEFT writes for {@code model} (see {@link #save(Path, LoraModel, String, String)}). */
    static Map<String, Object> config(LoraModel model, String baseModel) {
        return config(model.settings(), model.rankPattern(), model.alphaPattern(), baseModel);
    }

    /** The {@code adapter_config.json} PEFT writes for a model of these settings and patterns. */
    static Map<String, Object> config(LoraConfig settings, Map<String, Integer> rankPattern,
                                      Map<String, Double> alphaPattern, String baseModel) {
        Map<String, Object> config = new TreeMap<>();
        Map<String, Object> alphas = new TreeMap<>();
        alphaPattern.forEach((k, v) -> alphas.put(k, whole(v)));
        config.put("alpha_pattern", alphas);
        config.put("auto_mapping", null);
        config.put("base_model_name_or_path", baseModel);
        config.put("bias", settings.bias().key());
        config.put("fan_in_fan_out", false);
        config.put("inference_mode", true);
        config.put("init_lora_weights", settings.initLoraWeights().json());
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
        config.put("target_modules", settings.targetModulesJson());
        config.put("task_type", "CAUSAL_LM");
        config.put("use_dora", settings.useDora());
        config.put("use_rslora", settings.useRslora());
        return config;
    }

    /** The base fingerprint an adapter file records, or null. */
    public static String baseFingerprint(Path dir) {
        return AdapterFiles.baseFingerprint(dir);
    }

    private static Object whole(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? (Object) (long) v : (Object) v;
    }

    private static Parameter vector(SafetensorsFile file, String name) {
        return AdapterFiles.readParameter(file, name, 1);
    }

    private static Parameter parameter(SafetensorsFile file, String name) {
        return AdapterFiles.readParameter(file, name, 2);
    }
}
