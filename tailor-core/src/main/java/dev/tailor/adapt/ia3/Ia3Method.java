package dev.tailor.adapt.ia3;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.AdapterMethod;
import dev.tailor.adapt.AdapterShape;
import dev.tailor.adapt.MethodOption;
import dev.tailor.adapt.MethodOption.Kind;
import dev.tailor.adapt.MethodOptions;
import dev.tailor.model.ModelConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** (IA)³ ({@code --method ia3}), saved as PEFT's {@code IA3}; options as PEFT's {@code IA3Config}. */
public final class Ia3Method implements AdapterMethod {
    private static final List<MethodOption> OPTIONS = List.of(
            MethodOption.of("target_modules", Kind.LIST, "ia3: the targets (default k_proj,v_proj,down_proj)"),
            MethodOption.of("feedforward_modules", Kind.LIST, "ia3: targets whose input is scaled instead of their "
                    + "output (default down_proj when targeted)"),
            new MethodOption("init_ia3_weights", Kind.BOOLEAN, "true", "ia3: start the vectors at ones, the identity "
                    + "(true), or draw them from a standard normal as PEFT's torch.randn (false)"));
    private static final Set<String> CONFIG_KEYS = Set.of("fan_in_fan_out", "feedforward_modules", "init_ia3_weights",
            "modules_to_save", "target_modules", "exclude_modules");

    private static final Info INFO = new Info("IA3", List.of("ia3"),
            "learned scaling vectors on the outputs of keys and values and the input of the feed-forward output",
            OPTIONS, CONFIG_KEYS);

    @Override
    public Info info() {
        return INFO;
    }

    @Override
    public Adapter create(String name, MethodOptions options, AdapterBase base, long seed) {
        return Ia3Model.create(settings(options), base.config(), seed);
    }

    @Override
    public AdapterShape shape(String name, MethodOptions options, ModelConfig config, String baseName) {
        return Ia3Model.shape(settings(options), config, baseName);
    }

    private static Ia3Config settings(MethodOptions options) {
        Ia3Config defaults = Ia3Config.defaults(options.list("target_modules"), options.list("feedforward_modules"));
        return new Ia3Config(defaults.targetModules(), defaults.feedforwardModules(), options.bool("init_ia3_weights"));
    }

    @Override
    public Adapter load(Path dir, JsonNode config) {
        return Ia3Files.load(dir, config);
    }
}
