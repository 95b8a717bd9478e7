package dev.tailor.adapt.compacter;

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

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compacter and Compacter++ ({@code --method compacter|compacter++}): bottlenecks of PHM layers with shared rule
 * matrices, saved with Tailor's type {@code COMPACTER}; options as AdapterHub's.
 */
public final class CompacterMethod implements AdapterMethod {
    private static final List<MethodOption> OPTIONS = List.of(
            MethodOption.of("reduction_factor", Kind.DECIMAL, "compacter: hidden size / bottleneck size, a whole "
                    + "number (default " + CompacterConfig.DEFAULT_REDUCTION_FACTOR + ")"),
            new MethodOption("phm_dim", Kind.INT, Integer.toString(CompacterConfig.DEFAULT_PHM_DIM),
                    "compacter: Kronecker terms n (phm_dim; rule matrices n x n)"),
            new MethodOption("phm_rank", Kind.INT, Integer.toString(CompacterConfig.DEFAULT_PHM_RANK),
                    "compacter: rank of the factorised PHM weights (phm_rank)"));
    private static final Set<String> CONFIG_KEYS = Set.of("architecture", "factorized_phm_W", "hidden_size",
            "non_linearity", "num_layers", "phm_dim", "phm_rank", "reduction_factor", "shared_phm_rule");

    private static final Info INFO = new Info(CompacterFiles.PEFT_TYPE, List.of("compacter", "compacter++"),
            "bottlenecks of parameterized hypercomplex (Kronecker) layers with rule matrices shared by all layers",
            OPTIONS, CONFIG_KEYS);

    @Override
    public Info info() {
        return INFO;
    }

    @Override
    public Adapter create(String name, MethodOptions options, AdapterBase base, long seed) {
        CompacterConfig settings = settings(name, options, base.config());
        return CompacterModel.create(settings, base.config(), seed);
    }

    @Override
    public AdapterShape shape(String name, MethodOptions options, ModelConfig config, String baseName) {
        return CompacterModel.shape(settings(name, options, config), config, baseName);
    }

    /** The settings of {@code options}, refused when the adapter would be too large for {@code config}. */
    private static CompacterConfig settings(String name, MethodOptions options, ModelConfig config) {
        Double factor = options.decimal("reduction_factor");
        if (factor != null && (factor != Math.rint(factor) || factor < 1)) {
            throw new InvalidOptionException("reduction_factor", "reduction_factor must be a whole number >= 1 for Compacter, got "
                    + factor);
        }
        CompacterConfig settings = new CompacterConfig(CompacterArchitecture.parse(name),
                factor == null ? CompacterConfig.DEFAULT_REDUCTION_FACTOR : factor.intValue(),
                options.integer("phm_dim"), options.integer("phm_rank"));
        double d = config.hiddenSize();
        double k = settings.bottleneck(config.hiddenSize());
        double n = settings.phmDim();
        double rank = settings.phmRank();
        AdapterSize.check("phm_rank", "phm_dim " + settings.phmDim() + " and phm_rank " + settings.phmRank(),
                n * n * n + config.numLayers() * settings.architecture().sublayers().size() * (2 * rank + 1) * (d + k),
                Math.max(n * n * n, rank * d), config);
        return settings;
    }

    @Override
    public Adapter load(Path dir, JsonNode config) {
        return CompacterFiles.load(dir, config);
    }

    /** AdapterHub's reduction factor 32, lowered to the largest below it that gives whole PHM blocks when needed. */
    @Override
    public Map<String, List<String>> fittingOptions(String name, ModelConfig config) {
        int fitting = CompacterConfig.defaults(CompacterArchitecture.parse(name))
                .suggestReductionFactor(config.hiddenSize());
        return fitting == 0 ? Map.of() : Map.of("reduction_factor", List.of(Integer.toString(fitting)));
    }
}
