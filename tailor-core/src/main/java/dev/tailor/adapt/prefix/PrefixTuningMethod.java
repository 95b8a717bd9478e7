package dev.tailor.adapt.prefix;

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
import java.util.Set;

/** Prefix tuning ({@code --method prefix}), saved as PEFT's {@code PREFIX_TUNING}; options as PEFT's. */
public final class PrefixTuningMethod implements AdapterMethod {
    private static final List<MethodOption> OPTIONS = List.of(
            new MethodOption("num_virtual_tokens", Kind.INT, "20", "prefix: virtual tokens in front of every "
                    + "sequence"),
            MethodOption.of("prefix_projection", Kind.FLAG, "prefix: train the prefix through PEFT's MLP (embedding "
                    + "→ Linear → Tanh → Linear); the projected prefix is saved"),
            MethodOption.of("encoder_hidden_size", Kind.INT, "prefix: hidden units of the prefix_projection MLP "
                    + "(default: token_dim, the KV width of a layer)"));
    private static final Set<String> CONFIG_KEYS = Set.of("num_attention_heads", "num_layers",
            "num_transformer_submodules", "num_virtual_tokens", "token_dim", "encoder_hidden_size",
            "prefix_projection", "modules_to_save");

    private static final Info INFO = new Info(PrefixTuningModel.TYPE, List.of("prefix"),
            "trained keys and values in front of every attention's own",
            OPTIONS, CONFIG_KEYS);

    @Override
    public Info info() {
        return INFO;
    }

    @Override
    public Adapter create(String name, MethodOptions options, AdapterBase base, long seed) {
        return PrefixTuningModel.create(settings(options, base.config()), seed);
    }

    @Override
    public AdapterShape shape(String name, MethodOptions options, ModelConfig config, String baseName) {
        return PrefixTuningModel.shape(settings(options, config), baseName);
    }

    /** The settings of {@code options} on {@code model}, refused when the adapter would be too large. */
    private static PrefixTuningConfig settings(MethodOptions options, ModelConfig model) {
        boolean projection = options.bool("prefix_projection");
        Integer hidden = options.integer("encoder_hidden_size");
        if (hidden != null && !projection) {
            throw new InvalidOptionException("encoder_hidden_size", "encoder_hidden_size needs prefix_projection");
        }
        PrefixTuningConfig settings = PrefixTuningConfig.forModel(model, options.integer("num_virtual_tokens"),
                projection, hidden);
        double p = settings.numVirtualTokens();
        double width = (double) settings.numLayers() * 2 * settings.tokenDim();
        double h = projection ? settings.encoderHiddenSize() : 0;
        double projectionParameters = projection ? p * settings.tokenDim() + h * (settings.tokenDim() + 1 + width)
                + width : 0;
        AdapterSize.check(projection ? "encoder_hidden_size" : "num_virtual_tokens", "num_virtual_tokens "
                        + settings.numVirtualTokens() + (projection ? " and encoder_hidden_size " + (long) h : ""),
                p * width + projectionParameters, Math.max(p * width, h * width), model);
        return settings;
    }

    @Override
    public Adapter load(Path dir, JsonNode config) {
        return PrefixTuningModel.load(dir, config);
    }
}
