package dev.tailor.adapt.bottleneck;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterConfigFields;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.site.Site;
import dev.tailor.model.site.SublayerSite;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorFormatException;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.Parameter;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Bottleneck adapters of a whole model, one {@link BottleneckLayer} per sublayer site of its architecture, saved in
 * Tailor's directory format.
 *
 * <p>{@code adapter_config.json} (keys sorted, indented by 2): {@code architecture} ({@code seq_bn} |
 * {@code double_seq_bn}), {@code base_model_name_or_path}, {@code hidden_size}, {@code non_linearity},
 * {@code num_layers}, {@code peft_type} ({@code "BOTTLENECK"}), {@code reduction_factor}, {@code task_type}
 * ({@code "CAUSAL_LM"}). {@code adapter_model.safetensors}, per site {@code model.layers.{i}.self_attn} (Houlsby
 * only) and {@code model.layers.{i}.mlp}:
 * <pre>
 * {site}.adapter_down.weight   [hidden/reduction_factor, hidden]   AdapterHub: ….adapter_down.0.weight
 * {site}.adapter_down.bias     [hidden/reduction_factor]           AdapterHub: ….adapter_down.0.bias
 * {site}.adapter_up.weight     [hidden, hidden/reduction_factor]   AdapterHub: ….adapter_up.weight
 * {site}.adapter_up.bias       [hidden]                            AdapterHub: ….adapter_up.bias
 * </pre>
 *
 * @param settings   architecture, reduction factor and non-linearity
 * @param hiddenSize the model's hidden size
 * @param numLayers  the model's number of blocks
 * @param adapters   per site ({@code model.layers.0.mlp}), its adapter
 */
public record BottleneckModel(BottleneckConfig settings, int hiddenSize, int numLayers,
                              Map<String, BottleneckLayer> adapters) implements Adapter {

    /** The keys of {@code adapter_config.json}, sorted. */
    public static final List<String> CONFIG_KEYS = List.of("architecture", "base_model_name_or_path", "hidden_size",
            "non_linearity", "num_layers", "peft_type", "reduction_factor", "task_type");
    private static final String[] TENSORS = {"adapter_down.weight", "adapter_down.bias", "adapter_up.weight",
        "adapter_up.bias"};

    /** Copies the map (sorted by site). */
    public BottleneckModel {
        adapters = new TreeMap<>(adapters);
    }

    /** Fresh adapters at every site of the architecture, initialised as {@link BottleneckLayer#create}, seeded. */
    public static BottleneckModel create(BottleneckConfig settings, ModelConfig config, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int hidden = config.hiddenSize();
        Map<String, BottleneckLayer> sites = new TreeMap<>();
        for (String site : siteNames(settings.architecture(), config.numLayers())) {
            sites.put(site, BottleneckLayer.create(site, hidden, settings.bottleneck(hidden),
                    settings.nonLinearity(), rnd));
        }
        return new BottleneckModel(settings, hidden, config.numLayers(), sites);
    }

    /**
     * The shape of what {@link #create} makes, from the config alone. Per row and site, with bottleneck b on hidden
     * size d: the forward's down and up products, {@code 4·d·b}; the backward recomputes the down product and forms
     * the gradients of both weights and of the input, {@code 10·d·b}. It keeps nothing itself (the training network
     * keeps the sublayer's output it reads).
     */
    public static AdapterShape shape(BottleneckConfig settings, ModelConfig config, String baseName) {
        int d = config.hiddenSize();
        long b = settings.bottleneck(d);
        List<AdapterShape.Tensor> tensors = new ArrayList<>();
        List<AdapterShape.Piece> pieces = new ArrayList<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (SublayerSite sublayer : settings.architecture().sublayers()) {
                pieces.add(new AdapterShape.Piece(layer, sublayer, 4.0 * d * b, 10.0 * d * b, 0, 0, 0));
            }
        }
        for (String site : new TreeSet<>(siteNames(settings.architecture(), config.numLayers()))) {
            tensors.add(new AdapterShape.Tensor(site + ".adapter_down.weight", new long[] {b, d}));
            tensors.add(new AdapterShape.Tensor(site + ".adapter_down.bias", new long[] {b}));
            tensors.add(new AdapterShape.Tensor(site + ".adapter_up.weight", new long[] {d, b}));
            tensors.add(new AdapterShape.Tensor(site + ".adapter_up.bias", new long[] {d}));
        }
        return new AdapterShape(tensors, tensors, config(settings, d, config.numLayers(), baseName), pieces, 0, 0, 0);
    }

    private static List<String> siteNames(Architecture architecture, int numLayers) {
        return Site.modules(numLayers, architecture.sublayers());
    }

    @Override
    public String type() {
        return "BOTTLENECK";
    }

    @Override
    public String describe() {
        BottleneckLayer any = adapters.values().iterator().next();
        return "bottleneck " + settings.architecture().configName() + " (" + settings.nonLinearity().configName()
                + ", " + hiddenSize + "→" + any.bottleneck() + ") at " + adapters.size() + " sites";
    }

    @Override
    public AdapterSites sites() {
        return AdapterSites.ofSublayer(adapters);
    }

    @Override
    public Map<String, Object> config(String baseModel) {
        return config(settings, hiddenSize, numLayers, baseModel);
    }

    /** The {@code adapter_config.json} of adapters of {@code settings} on a model of this size. */
    private static Map<String, Object> config(BottleneckConfig settings, int hiddenSize, int numLayers,
                                              String baseModel) {
        Map<String, Object> config = new TreeMap<>();
        config.put("architecture", settings.architecture().configName());
        config.put("base_model_name_or_path", baseModel);
        config.put("hidden_size", hiddenSize);
        config.put("non_linearity", settings.nonLinearity().configName());
        config.put("num_layers", numLayers);
        config.put("peft_type", "BOTTLENECK");
        double rf = settings.reductionFactor();
        config.put("reduction_factor", rf == Math.rint(rf) && rf < 1e15 ? (Object) (long) rf : (Object) rf);
        config.put("task_type", "CAUSAL_LM");
        return config;
    }

    /** Every site's down and up projections under AdapterHub's names. */
    @Override
    public List<Parameter> savedTensors() {
        List<Parameter> tensors = new ArrayList<>();
        adapters.values().forEach(a -> tensors.addAll(a.parameters()));
        return tensors;
    }

    /**
     * Loads the adapters in {@code dir} whose parsed {@code adapter_config.json} is {@code config}.
     *
     * @throws IllegalArgumentException naming the file and key when the config is incomplete or unsupported
     * @throws TensorFormatException    naming the file and tensor when one is missing or has the wrong shape
     */
    public static BottleneckModel load(Path dir, JsonNode config) {
        Path configFile = dir.resolve("adapter_config.json");
        AdapterConfigFields fields = AdapterConfigFields.ofType(dir, config, "BOTTLENECK");
        for (String key : List.of("architecture", "hidden_size", "num_layers", "non_linearity", "reduction_factor")) {
            if (!config.hasNonNull(key)) {
                throw new IllegalArgumentException(configFile + ": missing \"" + key + "\"");
            }
        }
        String architecture = fields.string("architecture", null);
        double reductionFactor = fields.number("reduction_factor", Double.NaN);
        String nonLinearity = fields.string("non_linearity", null);
        int hidden = fields.integer("hidden_size", 1, -1);
        int layers = fields.integer("num_layers", 1, -1);
        BottleneckConfig settings;
        try {
            settings = new BottleneckConfig(Architecture.parse(architecture), reductionFactor,
                    NonLinearity.parse(nonLinearity));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configFile + ": " + e.getMessage(), e);
        }
        Set<String> read = new HashSet<>();
        Path weights = dir.resolve("adapter_model.safetensors");
        Map<String, BottleneckLayer> sites = new TreeMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            // layer by layer, not from a list of every site: num_layers may be far more than the file holds
            for (int layer = 0; layer < layers; layer++) {
                for (SublayerSite at : settings.architecture().sublayers()) {
                    String site = at.module(layer);
                    Parameter[] p = new Parameter[TENSORS.length];
                    for (int i = 0; i < TENSORS.length; i++) {
                        String name = site + "." + TENSORS[i];
                        if (!file.contains(name)) {
                            throw new TensorFormatException(weights + ": missing " + name + " ("
                                    + settings.architecture().configName() + " has adapters at "
                                    + settings.architecture().sublayers().stream().map(Site::path).toList()
                                    + " of each of " + layers + " layers)");
                        }
                        p[i] = AdapterFiles.readParameter(file, name, TENSORS[i].endsWith("weight") ? 2 : 1);
                        read.add(name);
                    }
                    BottleneckLayer a;
                    try {
                        a = new BottleneckLayer(p[0], p[1], p[2], p[3], settings.nonLinearity());
                    } catch (IllegalArgumentException e) {
                        throw new TensorFormatException(weights + ": " + e.getMessage());
                    }
                    if (a.hidden() != hidden) {
                        throw new TensorFormatException(weights + ": " + p[0].name() + " is for hidden size "
                                + a.hidden() + " but " + configFile + " says hidden_size " + hidden);
                    }
                    sites.put(site, a);
                }
            }
            AdapterFiles.checkNoOtherTensors(file, read, "architecture " + architecture + ", num_layers " + layers);
        }
        return new BottleneckModel(settings, hidden, layers, sites);
    }
}
