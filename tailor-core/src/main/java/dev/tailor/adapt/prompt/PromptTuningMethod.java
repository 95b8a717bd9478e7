package dev.tailor.adapt.prompt;

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

/** Prompt tuning ({@code --method prompt}), saved as PEFT's {@code PROMPT_TUNING}; options as PEFT's. */
public final class PromptTuningMethod implements AdapterMethod {
    private static final Set<String> CONFIG_KEYS = Set.of("num_attention_heads", "num_layers",
            "num_transformer_submodules", "num_virtual_tokens", "token_dim", "prompt_tuning_init",
            "prompt_tuning_init_text", "tokenizer_kwargs", "tokenizer_name_or_path", "modules_to_save");
    private static final List<MethodOption> OPTIONS = List.of(
            new MethodOption("num_virtual_tokens", Kind.INT, "20", "prompt: virtual tokens in front of every "
                    + "sequence"),
            new MethodOption("prompt_tuning_init", Kind.TEXT, "RANDOM", "prompt: RANDOM (N(0,1)) or TEXT (embeddings "
                    + "of prompt_tuning_init_text)"),
            MethodOption.of("prompt_tuning_init_text", Kind.TEXT, "prompt: with TEXT, the text whose embeddings start "
                    + "the prompt (repeated or cut to num_virtual_tokens)"));

    /** TEXT init reads the base's embedding rows of the ids its tokenizer gives the init text. */
    private static final Info INFO = new Info(PromptTuningModel.TYPE, List.of("prompt"),
            "trained virtual-token embeddings in front of the input",
            OPTIONS, CONFIG_KEYS);

    @Override
    public Info info() {
        return INFO;
    }

    @Override
    public Adapter create(String name, MethodOptions options, AdapterBase base, long seed) {
        PromptTuningConfig settings = settings(options, base.config(), base.name());
        return PromptTuningModel.create(settings, base.weights().embed(), base.tokenizer(), seed);
    }

    @Override
    public AdapterShape shape(String name, MethodOptions options, ModelConfig config, String baseName) {
        return PromptTuningModel.shape(settings(options, config, baseName), baseName);
    }

    /** The settings of {@code options} on {@code model}, refused when the adapter would be too large. */
    private static PromptTuningConfig settings(MethodOptions options, ModelConfig model, String baseName) {
        PromptTuningInit init = PromptTuningInit.parse(options.text("prompt_tuning_init"));
        String text = options.text("prompt_tuning_init_text");
        if (init == PromptTuningInit.TEXT && text == null) {
            throw new InvalidOptionException("prompt_tuning_init", "prompt_tuning_init TEXT needs prompt_tuning_init_text");
        }
        PromptTuningConfig settings = PromptTuningConfig.forModel(model, options.integer("num_virtual_tokens"),
                init, text, baseName);
        double values = (double) settings.numVirtualTokens() * settings.tokenDim();
        AdapterSize.check("num_virtual_tokens", "num_virtual_tokens " + settings.numVirtualTokens(), values, values,
                model);
        return settings;
    }

    @Override
    public Adapter load(Path dir, JsonNode config) {
        return PromptTuningModel.load(dir, config);
    }
}
