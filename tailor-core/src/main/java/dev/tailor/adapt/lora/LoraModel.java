package dev.tailor.adapt.lora;

import java.util.List;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.site.LinearHook;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.Site;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A LoRA adapter of a whole model: its options, one {@link LoraLayer} per targeted module and, with DoRA, a
 * magnitude per targeted module, with {@code bias} {@code lora_only} / {@code all}, the trained biases.
 *
 * @param settings     the options saved in {@code adapter_config.json}
 * @param modules      per module ({@code model.layers.0.self_attn.q_proj}), its pair
 * @param magnitudes   per module, DoRA's {@code lora_magnitude_vector} (empty without DoRA)
 * @param biases       per module, its trained bias (empty with {@code bias = "none"})
 * @param rankPattern  PEFT's {@code rank_pattern}: per module name or pattern ({@link LoraPatterns}), the rank of
 *                     the modules it matches, where it differs from {@code settings.r()}
 * @param alphaPattern PEFT's {@code alpha_pattern}: likewise the alpha, where it differs from
 *                     {@code settings.loraAlpha()}
 */
public record LoraModel(LoraConfig settings, Map<String, LoraLayer> modules, Map<String, Parameter> magnitudes,
                        Map<String, Parameter> biases, Map<String, Integer> rankPattern,
                        Map<String, Double> alphaPattern) implements Adapter {

    /**
     * Copies the maps (sorted by module).
     *
     * @throws IllegalArgumentException naming the module of a magnitude without a pair
     */
    public LoraModel {
        modules = new TreeMap<>(modules);
        magnitudes = new TreeMap<>(magnitudes);
        biases = new TreeMap<>(biases);
        rankPattern = new TreeMap<>(rankPattern);
        alphaPattern = new TreeMap<>(alphaPattern);
        for (String module : magnitudes.keySet()) {
            if (!modules.containsKey(module)) {
                throw new IllegalArgumentException(module + ": a DoRA magnitude without a LoRA pair");
            }
        }
    }

    /** Plain LoRA pairs: no DoRA magnitudes, no trained biases. */
    public LoraModel(LoraConfig settings, Map<String, LoraLayer> modules, Map<String, Integer> rankPattern,
                     Map<String, Double> alphaPattern) {
        this(settings, modules, Map.of(), Map.of(), rankPattern, alphaPattern);
    }

    /**
     * Fresh plain LoRA adapters for every target of {@code settings}, as {@link LoraFiles#create} makes them.
     *
     * @throws IllegalArgumentException when the settings need the base's weights (DoRA, a trained bias)
     */
    public static LoraModel create(LoraConfig settings, ModelConfig config, long seed) {
        if (settings.useDora() || settings.bias() != LoraBias.NONE) {
            throw new IllegalArgumentException("DoRA and trained biases start from the base's weights: use "
                    + "LoraModel.create(settings, config, base, seed)");
        }
        return new LoraModel(settings, LoraFiles.create(settings, config, seed), Map.of(), Map.of());
    }

    /**
     * Fresh adapters for every target of {@code settings} on {@code base}: pairs as {@link LoraFiles#create}
     * makes them, DoRA magnitudes {@code ‖W0‖}, trained biases starting as copies of the base's (named as PEFT saves
     * them: {@code base_model.model.<module>.base_layer.bias} on a targeted linear, {@code <module>.bias} on another).
     */
    public static LoraModel create(LoraConfig settings, ModelConfig config, LlamaWeights base, long seed) {
        return create(settings, LoraPatterns.NONE, config, base, seed);
    }

    /**
     * Like {@link #create(LoraConfig, ModelConfig, LlamaWeights, long)}, with PEFT's per-module ranks and alphas:
     * each pair as {@link LoraFiles#create(LoraConfig, LoraPatterns, ModelConfig, long)} makes it, and the
     * patterns saved as given ({@code rank_pattern} / {@code alpha_pattern}).
     *
     * @throws IllegalArgumentException when a pattern key matches no target, or overlapping keys disagree
     */
    public static LoraModel create(LoraConfig settings, LoraPatterns patterns, ModelConfig config,
                                   LlamaWeights base, long seed) {
        Map<String, LoraLayer> pairs = LoraFiles.create(settings, patterns, config, seed);
        Map<String, Parameter> magnitudes = new TreeMap<>();
        if (settings.useDora()) {
            pairs.forEach((module, pair) -> magnitudes.put(module,
                    DoraLayer.create(module, pair, weight(base, module)).magnitude()));
        }
        Map<String, Parameter> biases = new TreeMap<>();
        for (String module : LoraConfig.linears(config)) {
            float[] b = bias(base, module);
            boolean targeted = pairs.containsKey(module);
            boolean trained = switch (settings.bias()) {
                case NONE -> false;
                case LORA_ONLY -> targeted;
                case ALL -> true;
            };
            if (b != null && trained) {
                String name = "base_model.model." + module + (targeted ? ".base_layer.bias" : ".bias");
                biases.put(module, new Parameter(name, new long[] {b.length}, b.clone()));
            }
        }
        return new LoraModel(settings, pairs, magnitudes, biases, patterns.rankPattern(), patterns.alphaPattern());
    }

    /**
     * The shape of what {@link #create(LoraConfig, LoraPatterns, ModelConfig, LlamaWeights, long)} makes, from the
     * config alone. What each piece computes per row, for a pair of rank r on an {@code [out, in]} linear: forward
     * {@code x·Aᵀ} and {@code h·Bᵀ}, {@code 2r(in + out)}; backward {@code dB}, {@code dh}, {@code dA} and
     * {@code dX}, {@code 4r(in + out)}; it keeps {@code s·x·Aᵀ} (r per row) and {@code Bᵀ} ({@code r·out}). DoRA
     * keeps nothing: its backward recomputes the pair's forward and the base product {@code x·W0ᵀ}
     * ({@code 2·in·out}, which its forward also computes under dropout), and each forward and backward computes the
     * row norms of {@code W0 + s·B·A} ({@code 2r·in·out + 2·in·out} per pass each). A trained bias computes nothing
     * worth counting.
     *
     * @throws IllegalArgumentException when a pattern key matches no target, or overlapping keys disagree
     */
    public static AdapterShape shape(LoraConfig settings, LoraPatterns patterns, ModelConfig config, String baseName) {
        List<String> targets = settings.modules(config);
        patterns.check(targets);
        Map<String, List<AdapterShape.Tensor>> tensors = new TreeMap<>();
        Map<String, AdapterShape.Piece> pieces = new TreeMap<>();
        for (String module : targets) {
            int[] shape = LoraConfig.shape(config, module);
            long out = shape[0];
            long in = shape[1];
            int r = patterns.rank(module, settings.r());
            String prefix = "base_model.model." + module;
            List<AdapterShape.Tensor> list = tensors.computeIfAbsent(module, m -> new ArrayList<>());
            list.add(new AdapterShape.Tensor(prefix + ".lora_A.weight", new long[] {r, in}));
            list.add(new AdapterShape.Tensor(prefix + ".lora_B.weight", new long[] {out, r}));
            double pair = 2.0 * r * (in + out);
            Site.At<LinearSite> at = LinearSite.parse(module);
            if (settings.useDora()) {
                list.add(new AdapterShape.Tensor(prefix + ".lora_magnitude_vector", new long[] {out}));
                double base = 2.0 * in * out;
                pieces.put(module, new AdapterShape.Piece(at.layer(), at.site(),
                        pair + (settings.loraDropout() > 0 ? base : 0), 2 * pair + pair + base, 0, 0,
                        2 * (r * base + base)));
            } else {
                pieces.put(module, new AdapterShape.Piece(at.layer(), at.site(), pair, 2 * pair, r, (double) r * out,
                        0));
            }
        }
        for (String module : LoraConfig.linears(config)) {
            Site.At<LinearSite> at = LinearSite.parse(module);
            boolean targeted = tensors.containsKey(module);
            boolean trained = switch (settings.bias()) {
                case NONE -> false;
                case LORA_ONLY -> targeted;
                case ALL -> true;
            };
            if (config.hasBias(at.site()) && trained) {
                String name = "base_model.model." + module + (targeted ? ".base_layer.bias" : ".bias");
                tensors.computeIfAbsent(module, m -> new ArrayList<>())
                        .add(new AdapterShape.Tensor(name, new long[] {config.shape(at.site())[0]}));
                pieces.putIfAbsent(module, new AdapterShape.Piece(at.layer(), at.site(), 0, 0, 0, 0, 0));
            }
        }
        List<AdapterShape.Tensor> all = tensors.values().stream().flatMap(List::stream).toList();
        return new AdapterShape(all, all, LoraFiles.config(settings, patterns.rankPattern(), patterns.alphaPattern(),
                baseName), List.copyOf(pieces.values()), 0, 0, 0);
    }

    @Override
    public String type() {
        return "LORA";
    }

    @Override
    public String describe() {
        String method = (settings.useDora() ? "DoRA" : "LoRA") + (settings.useRslora() ? " (rsLoRA scaling)" : "");
        return method + " r=" + settings.r() + " on " + modules.size() + " modules"
                + (rankPattern.isEmpty() ? "" : ", rank_pattern " + rankPattern)
                + (alphaPattern.isEmpty() ? "" : ", alpha_pattern " + alphaPattern)
                + (biases.isEmpty() ? "" : ", " + biases.size() + " biases trained (bias=" + settings.bias().key() + ")");
    }

    /**
     * Per module: the pair, as DoRA when it has a magnitude, inside a {@link BiasLayer} when its bias is trained;
     * a trained bias of an untargeted linear is a {@link BiasLayer} alone.
     */
    @Override
    public AdapterSites sites() {
        Map<String, LinearHook> sites = new TreeMap<>();
        Set<String> all = new HashSet<>(modules.keySet());
        all.addAll(biases.keySet());
        for (String module : all) {
            LoraLayer pair = modules.get(module);
            Parameter magnitude = magnitudes.get(module);
            LinearHook piece = pair == null ? null : magnitude == null ? pair : new DoraLayer(pair, magnitude);
            Parameter bias = biases.get(module);
            sites.put(module, bias == null ? piece : new BiasLayer(bias, piece));
        }
        return AdapterSites.ofLinear(sites);
    }

    /** The same adapter with every pair {@link LoraLayer#forInference for inference}; itself when they all are. */
    @Override
    public LoraModel forInference() {
        if (modules.values().stream().allMatch(pair -> pair.heldBytes() > 0)) {
            return this;
        }
        Map<String, LoraLayer> held = new TreeMap<>();
        modules.forEach((module, pair) -> held.put(module, pair.forInference()));
        return new LoraModel(settings, held, magnitudes, biases, rankPattern, alphaPattern);
    }

    @Override
    public long heldBytes() {
        return modules.values().stream().mapToLong(LoraLayer::heldBytes).sum();
    }

    @Override
    public Map<String, Object> config(String baseModel) {
        return LoraFiles.config(this, baseModel);
    }

    /** The pairs, DoRA magnitudes and trained biases under PEFT's names. */
    @Override
    public List<Parameter> savedTensors() {
        return sites().parameters();
    }

    /** The weight of linear {@code module} ({@code model.layers.3.mlp.up_proj}) of {@code base}. */
    private static WeightMatrix weight(LlamaWeights base, String module) {
        Site.At<LinearSite> at = LinearSite.parse(module);
        return base.layers().get(at.layer()).linear(at.site());
    }

    /** The bias of linear {@code module} of {@code base}, or null. */
    private static float[] bias(LlamaWeights base, String module) {
        Site.At<LinearSite> at = LinearSite.parse(module);
        return base.layers().get(at.layer()).bias(at.site());
    }
}
