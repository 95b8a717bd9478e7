package dev.tailor.cli;

import dev.tailor.adapt.ia3.Ia3Model;
import dev.tailor.adapt.ia3.Ia3Settings;
import dev.tailor.model.ModelConfig;
import picocli.CommandLine.Option;

import java.util.List;

/** The (IA)³ options of {@code tailor train --method ia3}, named after PEFT's {@code IA3Config}. */
public final class Ia3Options {

    @Option(names = "--feedforward-modules", split = ",",
            description = "ia3: targets whose input is scaled instead of their output (default down_proj when targeted)")
    List<String> feedforwardModules;
    @Option(names = "--init-ia3-weights", arity = "1", defaultValue = "true", paramLabel = "true|false",
            description = "ia3: start the vectors at ones, the identity (true), or draw them from a standard normal "
                    + "as PEFT's torch.randn (false) (default ${DEFAULT-VALUE})")
    boolean initIa3Weights;

    /**
     * A fresh (IA)³ adapter for {@code config}.
     *
     * @param targetModules the {@code --target-modules} value, or null for PEFT's Llama targets
     *                      ({@code k_proj,v_proj,down_proj})
     */
    Ia3Model create(List<String> targetModules, ModelConfig config, long seed) {
        Ia3Settings defaults = Ia3Settings.defaults(targetModules, feedforwardModules);
        return Ia3Model.create(new Ia3Settings(defaults.targetModules(), defaults.feedforwardModules(),
                initIa3Weights), config, seed);
    }

    /** The options as one string, for the run's configuration hash. */
    String key() {
        return "feedforward_modules=" + feedforwardModules + ",init_ia3_weights=" + initIa3Weights;
    }
}
