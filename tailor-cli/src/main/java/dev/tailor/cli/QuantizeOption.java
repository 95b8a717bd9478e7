package dev.tailor.cli;

import dev.tailor.model.LoadOptions;
import picocli.CommandLine.Option;

/**
 * The {@code --quantize} option of the commands that run a model: the base's weight matrices quantized at load
 * ({@link LoadOptions}).
 */
public final class QuantizeOption {

    @Option(names = "--quantize", paramLabel = "TYPE",
            description = "quantize the model's weight matrices at load, as llama-quantize does: Q8_0 or Q4_0 "
                    + "(a GGUF file's Q8_0/Q4_0 weights are used as they are, without it)")
    String type;

    /**
     * How to load the model.
     *
     * @throws IllegalArgumentException (bad input) naming a type that is neither Q8_0 nor Q4_0
     */
    public LoadOptions loading() {
        return LoadOptions.quantized(type);
    }
}
