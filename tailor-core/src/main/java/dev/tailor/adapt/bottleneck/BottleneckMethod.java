package dev.tailor.adapt.bottleneck;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.AdapterMethod;
import dev.tailor.adapt.AdapterShape;
import dev.tailor.adapt.AdapterSize;
import dev.tailor.adapt.MethodOption;
import dev.tailor.adapt.MethodOption.Kind;
import dev.tailor.adapt.MethodOptions;
import dev.tailor.model.ModelConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Bottleneck adapters ({@code --method seq_bn}: Pfeiffer, after the MLP; {@code double_seq_bn}: Houlsby, after
 * attention and the MLP), saved with Tailor's type {@code BOTTLENECK}; options as AdapterHub's.
 */
public final class BottleneckMethod implements AdapterMethod {
    private static final List<MethodOption> OPTIONS = List.of(
            MethodOption.of("reduction_factor", Kind.DECIMAL, "seq_bn, double_seq_bn: hidden size / bottleneck size "
                    + "(default 16)"),
            MethodOption.of("non_linearity", Kind.TEXT, "seq_bn, double_seq_bn: relu, swish (silu), gelu or tanh "
                    + "(default relu for seq_bn, swish for double_seq_bn)"));
    private static final Set<String> CONFIG_KEYS = Set.of("architecture", "hidden_size", "non_linearity", "num_layers",
            "reduction_factor");

    private static final Info INFO = new Info("BOTTLENECK", List.of("seq_bn", "double_seq_bn"),
            "residual bottleneck layers after the MLP (Pfeiffer) or after attention and the MLP (Houlsby)",
            OPTIONS, CONFIG_KEYS);

    @Override
    public Info info() {
        return INFO;
    }

    @Override
    public Adapter create(String name, MethodOptions options, AdapterBase base, long seed) {
        BottleneckConfig settings = settings(name, options);
        checkSize(settings, base.config());
        return BottleneckModel.create(settings, base.config(), seed);
    }

    @Override
    public AdapterShape shape(String name, MethodOptions options, ModelConfig config, String baseName) {
        BottleneckConfig settings = settings(name, options);
        checkSize(settings, config);
        return BottleneckModel.shape(settings, config, baseName);
    }

    private static BottleneckConfig settings(String name, MethodOptions options) {
        return BottleneckConfig.defaults(Architecture.parse(name), options.decimal("reduction_factor"),
                options.text("non_linearity"));
    }

    private static void checkSize(BottleneckConfig settings, ModelConfig config) {
        double d = config.hiddenSize();
        double bottleneck = Math.max(1, Math.floor(d / settings.reductionFactor()));
        AdapterSize.check("reduction_factor", "reduction_factor " + settings.reductionFactor(),
                config.numLayers() * settings.architecture().sublayers().size() * (2 * bottleneck * d + bottleneck + d),
                bottleneck * d, config);
    }

    @Override
    public Adapter load(Path dir, JsonNode config) {
        return BottleneckModel.load(dir, config);
    }
}
