package dev.tailor.adapt.lora;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.AdapterMethod;
import dev.tailor.adapt.AdapterShape;
import dev.tailor.adapt.AdapterSize;
import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.adapt.MethodOption;
import dev.tailor.adapt.MethodOption.Kind;
import dev.tailor.adapt.MethodOptions;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.LinearSite;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/** LoRA and DoRA ({@code --method lora|dora}), saved as PEFT's {@code LORA}; options as PEFT's {@code LoraConfig}. */
public final class LoraMethod implements AdapterMethod {
    private static final List<MethodOption> OPTIONS = List.of(
            new MethodOption("r", Kind.INT, "8", "lora: rank"),
            new MethodOption("lora_alpha", Kind.DECIMAL, "16", "lora: alpha"),
            new MethodOption("lora_dropout", Kind.DECIMAL, "0", "lora: dropout on the adapter's input in training, "
                    + "in [0, 1)"),
            MethodOption.of("target_modules", Kind.LIST, "lora: projections or module names, all-linear, or one "
                    + "regular expression matched against whole module names (default q_proj,v_proj)"),
            MethodOption.of("use_rslora", Kind.FLAG, "lora: scale by alpha/sqrt(r)"),
            MethodOption.of("layers_to_transform", Kind.LIST, "lora: only these layers"),
            MethodOption.of("use_dora", Kind.FLAG, "lora: DoRA, a trained magnitude per output row (same as "
                    + "method dora)"),
            new MethodOption("bias", Kind.TEXT, "none", "lora: biases trained with the adapter: none, lora_only or all"),
            new MethodOption("init_lora_weights", Kind.TEXT, "true", "lora: init of A: true (Kaiming-uniform) or "
                    + "gaussian"),
            MethodOption.of("rank_pattern", Kind.LIST, "lora: MODULE=R, the rank of the modules MODULE matches (a "
                    + "name, a suffix after a dot, or a regular expression; the first matching key wins), e.g. "
                    + "q_proj=16 or model.layers.0.mlp.down_proj=4; repeatable"),
            MethodOption.of("alpha_pattern", Kind.LIST, "lora: MODULE=ALPHA, the alpha of the modules MODULE matches, "
                    + "as rank_pattern; repeatable"));
    private static final Set<String> CONFIG_KEYS = Set.of("alpha_pattern", "bias", "fan_in_fan_out",
            "init_lora_weights", "layer_replication", "layers_pattern", "layers_to_transform", "loftq_config",
            "lora_alpha", "lora_dropout", "megatron_config", "megatron_core", "modules_to_save", "r", "rank_pattern",
            "target_modules", "use_dora", "use_rslora", "exclude_modules", "lora_bias", "use_qalora",
            "qalora_group_size", "trainable_token_indices", "corda_config", "eva_config", "target_parameters",
            "ensure_weight_tying", "arrow_config", "alora_invocation_tokens");

    /** PEFT's default targets for Llama-family models. */
    private static final List<String> DEFAULT_TARGETS = List.of(LinearSite.Q_PROJ.shortName(),
            LinearSite.V_PROJ.shortName());

    private static final Info INFO = new Info("LORA", List.of("lora", "dora"),
            "low-rank updates B·A of linear layers (LoRA, rsLoRA), with a trained magnitude per row (DoRA)",
            OPTIONS, CONFIG_KEYS);

    @Override
    public Info info() {
        return INFO;
    }

    @Override
    public Adapter create(String name, MethodOptions options, AdapterBase base, long seed) {
        LoraConfig settings = settings(name.equals("dora"), options);
        LoraPatterns patterns = patterns(options);
        checkSize(settings, patterns, base.config());
        return LoraModel.create(settings, patterns, base.config(), base.weights(), seed);
    }

    @Override
    public AdapterShape shape(String name, MethodOptions options, ModelConfig config, String baseName) {
        LoraConfig settings = settings(name.equals("dora"), options);
        LoraPatterns patterns = patterns(options);
        checkSize(settings, patterns, config);
        return LoraModel.shape(settings, patterns, config, baseName);
    }

    /** Refuses a rank too large to allocate, counting every linear of every layer at the largest rank given. */
    private static void checkSize(LoraConfig settings, LoraPatterns patterns, ModelConfig config) {
        int patternRank = patterns.rankPattern().values().stream().mapToInt(Integer::intValue).max().orElse(0);
        int rank = Math.max(settings.r(), patternRank);
        String option = patternRank > settings.r() ? "rank_pattern" : "r";
        double perLayer = 0;
        double widest = 0;
        for (LinearSite site : LinearSite.values()) {
            int[] shape = config.shape(site);
            perLayer += shape[0] + shape[1];
            widest = Math.max(widest, Math.max(shape[0], shape[1]));
        }
        AdapterSize.check(option, option + " " + rank, (double) rank * perLayer * config.numLayers(),
                (double) rank * widest, config);
    }

    @Override
    public Adapter load(Path dir, JsonNode config) {
        return LoraFiles.loadModel(dir, config);
    }

    /** The settings of {@code options}; {@code dora} forces DoRA. */
    static LoraConfig settings(boolean dora, MethodOptions options) {
        List<String> targets = options.list("target_modules");
        List<String> layers = options.list("layers_to_transform");
        return new LoraConfig(options.integer("r"), options.decimal("lora_alpha"), options.decimal("lora_dropout"),
                targets == null ? DEFAULT_TARGETS : targets, options.bool("use_rslora"),
                layers == null ? null : layers.stream().map(l -> layer(l)).toList(), dora || options.bool("use_dora"),
                LoraBias.parse(options.text("bias")), LoraInit.parse(options.text("init_lora_weights")));
    }

    private static Integer layer(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new InvalidOptionException("layers_to_transform", "layers_to_transform must be whole numbers, got \"" + text + "\"");
        }
    }

    /** The per-module ranks and alphas of {@code rank_pattern} / {@code alpha_pattern}, in the given order. */
    static LoraPatterns patterns(MethodOptions options) {
        return new LoraPatterns(
                parsed("rank_pattern", options.list("rank_pattern"), Integer::parseInt,
                        "the rank must be a whole number >= 1"),
                parsed("alpha_pattern", options.list("alpha_pattern"), Double::parseDouble, "alpha must be a number"));
    }

    /** The {@code MODULE=VALUE} entries of {@code option} with their values parsed, in the given order. */
    private static <T> Map<String, T> parsed(String option, List<String> entries, Function<String, T> parse,
                                             String expected) {
        Map<String, T> out = new LinkedHashMap<>();
        for (String entry : entries == null ? List.<String>of() : entries) {
            int eq = entry.lastIndexOf('=');
            if (eq <= 0 || entry.substring(0, eq).isBlank()) {
                throw new InvalidOptionException(option, option + ": \"" + entry + "\" must be MODULE=VALUE with a module name "
                        + "or pattern before the =, e.g. q_proj=16");
            }
            String key = entry.substring(0, eq).strip();
            String value = entry.substring(eq + 1).strip();
            T parsed;
            try {
                parsed = parse.apply(value);
            } catch (NumberFormatException e) {
                throw new InvalidOptionException(option, option + ": \"" + key + "=" + value + "\": " + expected);
            }
            if (out.put(key, parsed) != null) {
                throw new InvalidOptionException(option, option + ": \"" + key + "\" is given twice");
            }
        }
        return out;
    }
}
