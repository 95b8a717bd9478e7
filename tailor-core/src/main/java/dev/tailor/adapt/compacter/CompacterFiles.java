package dev.tailor.adapt.compacter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.AdapterConfigFields;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.model.site.Site;
import dev.tailor.model.site.SublayerSite;
import dev.tailor.tensor.Parameter;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Saves and reads Compacter adapters in Tailor's directory format (FORMATS.md): {@code adapter_config.json} with
 * {@code "peft_type": "COMPACTER"} and the options under AdapterHub's names ({@code architecture},
 * {@code reduction_factor}, {@code non_linearity}, {@code phm_dim}, {@code phm_rank}, {@code shared_phm_rule},
 * {@code factorized_phm_W}) plus {@code hidden_size}, {@code num_layers}, {@code task_type} and
 * {@code base_model_name_or_path}; and {@code adapter_model.safetensors} (float32) with the tensor names AdapterHub's
 * Llama model gives its state dict, for the adapter name {@code default}:
 * <pre>
 *   model.shared_parameters.default.phm_rule                                       [n, n, n]   (stored once)
 *   model.layers.{i}.attention_adapters.adapters.default.adapter_down.0.W_left     [n, d/n, rank]
 *   model.layers.{i}.attention_adapters.adapters.default.adapter_down.0.W_right    [n, rank, k/n]
 *   model.layers.{i}.attention_adapters.adapters.default.adapter_down.0.b          [k]
 *   model.layers.{i}.attention_adapters.adapters.default.adapter_up.W_left         [n, k/n, rank]
 *   model.layers.{i}.attention_adapters.adapters.default.adapter_up.W_right        [n, rank, d/n]
 *   model.layers.{i}.attention_adapters.adapters.default.adapter_up.b              [d]
 * </pre>
 * ({@code attention_adapters} after attention, {@code output_adapters} after the MLP; d hidden size, k bottleneck).
 * The base's fingerprint goes into the safetensors metadata ({@code tailor.base_fingerprint}).
 */
public final class CompacterFiles {
    /** The {@code peft_type} of Compacter adapters. */
    public static final String PEFT_TYPE = "COMPACTER";
    /** The adapter name in the tensor names, as AdapterHub keys its modules by adapter. */
    public static final String ADAPTER_NAME = "default";
    /** The saved name of the shared rule matrices. */
    public static final String RULE = "model.shared_parameters." + ADAPTER_NAME + ".phm_rule";

    private CompacterFiles() {
    }

    /** The tensor-name prefix of the layer at {@code sublayer} ({@code self_attn} or {@code mlp}) of block {@code layer}. */
    static String prefix(int layer, SublayerSite sublayer) {
        String group = switch (sublayer) {
            case SELF_ATTN -> "attention_adapters";
            case MLP -> "output_adapters";
        };
        return Site.block(layer) + "." + group + ".adapters." + ADAPTER_NAME + ".";
    }

    /** The {@code adapter_config.json} of {@code adapter}: AdapterHub's Compacter keys. */
    static Map<String, Object> config(CompacterModel adapter, String baseModel) {
        return config(adapter.settings(), adapter.hiddenSize(), adapter.numLayers(), baseModel);
    }

    /** The {@code adapter_config.json} of a Compacter of {@code s} on a model of this size. */
    static Map<String, Object> config(CompacterConfig s, int hiddenSize, int numLayers, String baseModel) {
        Map<String, Object> config = new TreeMap<>();
        config.put("architecture", s.architecture().configName());
        config.put("base_model_name_or_path", baseModel);
        config.put("factorized_phm_W", true);
        config.put("hidden_size", hiddenSize);
        config.put("non_linearity", CompacterConfig.NON_LINEARITY);
        config.put("num_layers", numLayers);
        config.put("peft_type", PEFT_TYPE);
        config.put("phm_dim", s.phmDim());
        config.put("phm_rank", s.phmRank());
        config.put("reduction_factor", s.reductionFactor());
        config.put("shared_phm_rule", true);
        config.put("task_type", "CAUSAL_LM");
        return config;
    }

    /**
     * Reads the adapter in {@code dir} whose parsed {@code adapter_config.json} is {@code config}; its parameters
     * are float32 copies, the rule one object shared by every layer.
     *
     * @throws IllegalArgumentException naming the file and key when the config is not a Compacter Tailor reads
     * @throws TensorFormatException    naming the file and tensor when one is missing or has the wrong shape
     */
    public static CompacterModel load(Path dir, JsonNode config) {
        Path configFile = dir.resolve("adapter_config.json");
        AdapterConfigFields fields = AdapterConfigFields.ofType(dir, config, PEFT_TYPE);
        CompacterArchitecture architecture;
        try {
            architecture = CompacterArchitecture.parse(fields.string("architecture", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configFile + ": " + e.getMessage(), e);
        }
        require(configFile, config, "shared_phm_rule", true);
        require(configFile, config, "factorized_phm_W", true);
        String nonLinearity = fields.string("non_linearity", "");
        if (!nonLinearity.equals(CompacterConfig.NON_LINEARITY)) {
            throw new IllegalArgumentException(configFile + ": non_linearity \"" + nonLinearity
                    + "\" is not supported (expected \"gelu\")");
        }
        int hidden = positive(configFile, config, "hidden_size");
        int numLayers = positive(configFile, config, "num_layers");
        int reductionFactor = positive(configFile, config, "reduction_factor");
        int phmDim = positive(configFile, config, "phm_dim");
        int phmRank = positive(configFile, config, "phm_rank");
        CompacterConfig settings;
        int k;
        try {
            settings = new CompacterConfig(architecture, reductionFactor, phmDim, phmRank);
            k = settings.bottleneck(hidden);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configFile + ": " + e.getMessage(), e);
        }
        int n = settings.phmDim();
        int rank = settings.phmRank();
        Path weights = dir.resolve("adapter_model.safetensors");
        Map<String, CompacterLayer> layers = new TreeMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            Set<String> read = new HashSet<>();
            Parameter rule = tensor(file, read, RULE, n, n, n);
            for (int layer = 0; layer < numLayers; layer++) {
                for (SublayerSite sublayer : architecture.sublayers()) {
                    String prefix = prefix(layer, sublayer);
                    PhmLayer down = new PhmLayer(rule,
                            tensor(file, read, prefix + "adapter_down.0.W_left", n, hidden / n, rank),
                            tensor(file, read, prefix + "adapter_down.0.W_right", n, rank, k / n),
                            tensor(file, read, prefix + "adapter_down.0.b", k));
                    PhmLayer up = new PhmLayer(rule,
                            tensor(file, read, prefix + "adapter_up.W_left", n, k / n, rank),
                            tensor(file, read, prefix + "adapter_up.W_right", n, rank, hidden / n),
                            tensor(file, read, prefix + "adapter_up.b", hidden));
                    layers.put(sublayer.module(layer), new CompacterLayer(down, up));
                }
            }
            AdapterFiles.checkNoOtherTensors(file, read, "architecture " + architecture.configName()
                    + ", num_layers " + numLayers);
            return new CompacterModel(settings, hidden, numLayers, rule, layers);
        }
    }

    private static void require(Path file, JsonNode config, String key, boolean expected) {
        JsonNode v = config.get(key);
        if (v == null || !v.isBoolean() || v.asBoolean() != expected) {
            throw new IllegalArgumentException(file + ": " + key + " must be " + expected + ", got " + v);
        }
    }

    private static int positive(Path file, JsonNode config, String key) {
        JsonNode v = config.get(key);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
            throw new IllegalArgumentException(file + ": " + key + " must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    /** A float32 copy of tensor {@code name} of exactly {@code shape}; the name goes into {@code read}. */
    private static Parameter tensor(SafetensorsFile file, Set<String> read, String name, long... shape) {
        read.add(name);
        if (!file.contains(name)) {
            throw new TensorFormatException(file.path() + ": missing tensor " + name + " " + Arrays.toString(shape));
        }
        TensorInfo info = file.info(name);
        if (!Arrays.equals(info.shape(), shape) || !info.dtype().isWeightType()) {
            throw new TensorFormatException(file.path() + ": " + name + " must be a float tensor of shape "
                    + Arrays.toString(shape) + ", is " + info.dtype() + info.shapeString());
        }
        return AdapterFiles.readParameter(file, name, shape.length);
    }
}
