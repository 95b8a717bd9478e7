package dev.tailor.adapt.ia3;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.AdapterConfigFields;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorFormatException;
import dev.tailor.tensor.Parameter;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads and writes PEFT (IA)³ adapter directories. Tensors are {@code base_model.model.<module>.ia3_l} (no
 * {@code .weight}; an adapter name such as {@code .default} after {@code ia3_l} is accepted on read). A module is
 * a feed-forward one when {@code feedforward_modules} says so, as PEFT decides it: for a list, the module name ends
 * with one of its entries; for a string, the name matches it as a regex in full. Unknown config keys are ignored.
 */
public final class Ia3Files {
    private static final String PREFIX = "base_model.model.";
    private static final Pattern L_NAME = Pattern.compile("(.+)\\.ia3_l(?:\\.[A-Za-z0-9_]+)?");

    /**
     * The keys PEFT's {@code IA3Config} writes (PEFT 0.10–0.13, the release line of the LoRA keys in FORMATS.md;
     * {@code exclude_modules} came later), sorted.
     */
    public static final List<String> CONFIG_KEYS = List.of("auto_mapping", "base_model_name_or_path",
            "fan_in_fan_out", "feedforward_modules", "inference_mode", "init_ia3_weights", "modules_to_save",
            "peft_type", "revision", "target_modules", "task_type");

    private Ia3Files() {
    }

    /**
     * Loads the adapter in {@code dir} whose parsed {@code adapter_config.json} is {@code config}; the vectors are
     * float32 copies named as in the file.
     *
     * @throws IllegalArgumentException naming the file when it is not an (IA)³ adapter Tailor supports
     * @throws TensorFormatException    naming the file and tensor when a vector is missing or has the wrong shape
     */
    public static Ia3Model load(Path dir, JsonNode config) {
        Path configFile = dir.resolve("adapter_config.json");
        AdapterConfigFields fields = AdapterConfigFields.ofType(dir, config, "IA3");
        if (fields.bool("fan_in_fan_out", false)) {
            throw new IllegalArgumentException(configFile + ": fan_in_fan_out true is for GPT-2's Conv1D, not a "
                    + "Llama-family linear");
        }
        JsonNode feedforward = config.get("feedforward_modules");
        if (feedforward != null && feedforward.isTextual()) {
            try {
                Pattern.compile(feedforward.textValue());
            } catch (PatternSyntaxException e) {
                throw fields.error("feedforward_modules", "is not a valid regular expression: " + e.getDescription());
            }
        } else {
            fields.strings("feedforward_modules", false);
        }
        boolean init = fields.bool("init_ia3_weights", true);
        Map<String, Ia3Layer> modules = new TreeMap<>();
        Path weights = dir.resolve("adapter_model.safetensors");
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            for (String name : file.names()) {
                Matcher m = L_NAME.matcher(name);
                if (!m.matches() || !name.startsWith(PREFIX)) {
                    continue;
                }
                String module = m.group(1).substring(PREFIX.length());
                Parameter l = AdapterFiles.readParameter(file, name, 2);
                boolean ff = feedforward == null || feedforward.isNull()
                        ? l.shape()[0] == 1 && l.shape()[1] != 1
                        : isFeedforward(feedforward, module);
                try {
                    modules.put(module, new Ia3Layer(l, ff));
                } catch (IllegalArgumentException e) {
                    throw new TensorFormatException(weights + ": " + e.getMessage() + " (" + module + " is "
                            + (ff ? "" : "not ") + "in feedforward_modules of " + configFile + ")");
                }
            }
        }
        if (modules.isEmpty()) {
            throw new TensorFormatException(weights + ": no ia3_l tensors found");
        }
        fields.checkTargets(modules.keySet(), weights, null);
        return new Ia3Model(settings(modules, init), modules);
    }

    /** Whether PEFT treats {@code module} as a feed-forward module under {@code feedforward_modules}. */
    static boolean isFeedforward(JsonNode feedforward, String module) {
        if (feedforward.isTextual()) {
            return module.matches(feedforward.asText());
        }
        for (JsonNode key : feedforward) {
            if (module.endsWith(key.asText())) {
                return true;
            }
        }
        return false;
    }

    /** The options a loaded adapter is saved again with: targets and feed-forward modules as found in the file. */
    private static Ia3Config settings(Map<String, Ia3Layer> modules, boolean initIa3Weights) {
        TreeSet<String> targets = new TreeSet<>();
        TreeSet<String> feedforward = new TreeSet<>();
        modules.forEach((module, a) -> {
            String projection = module.substring(module.lastIndexOf('.') + 1);
            targets.add(projection);
            if (a.feedforward()) {
                feedforward.add(projection);
            }
        });
        return new Ia3Config(List.copyOf(targets), List.copyOf(feedforward), initIa3Weights);
    }

    /** The {@code adapter_config.json} PEFT writes for {@code model}: exactly {@link #CONFIG_KEYS}. */
    static Map<String, Object> config(Ia3Model model, String baseModel) {
        return config(model.settings(), baseModel);
    }

    /** The {@code adapter_config.json} PEFT writes for an adapter of {@code settings}. */
    static Map<String, Object> config(Ia3Config settings, String baseModel) {
        Map<String, Object> config = new TreeMap<>();
        config.put("auto_mapping", null);
        config.put("base_model_name_or_path", baseModel);
        config.put("fan_in_fan_out", false);
        config.put("feedforward_modules", settings.feedforwardModules().stream().sorted().toList());
        config.put("inference_mode", true);
        config.put("init_ia3_weights", settings.initIa3Weights());
        config.put("modules_to_save", null);
        config.put("peft_type", "IA3");
        config.put("revision", null);
        config.put("target_modules", settings.projections());
        config.put("task_type", "CAUSAL_LM");
        return config;
    }
}
