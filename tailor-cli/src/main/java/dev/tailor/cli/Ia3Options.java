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

    /**
     * A fresh (IA)³ adapter for {@code config}.
     *
     * @param targetModules the {@code --target-modules} value, or null for PEFT's Llama targets
     *                      ({@code k_proj,v_proj,down_proj})
     */
    Ia3Model create(List<String> targetModules, ModelConfig config, long seed) {
        return Ia3Model.create(Ia3Settings.defaults(targetModules, feedforwardModules), config, seed);
    }
}
