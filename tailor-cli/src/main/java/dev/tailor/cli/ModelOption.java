package dev.tailor.cli;

import dev.tailor.hub.HfCache;
import dev.tailor.hub.HubException;
import dev.tailor.hub.ModelLocator;
import dev.tailor.hub.OllamaStore;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The {@code --model} option shared by commands: a model directory, a GGUF file, a repo id in the Hugging Face cache
 * or a model in Ollama's store.
 */
public final class ModelOption {

    @Option(names = {"-m", "--model"}, required = true,
            description = "model directory, GGUF file, ORG/NAME[@REVISION] already in the Hugging Face cache, "
                    + "or ollama:NAME[:TAG] from Ollama's store ($OLLAMA_MODELS or ~/.ollama/models)")
    String spec;

    /**
     * The directory holding the model's files, or its GGUF file.
     *
     * @throws IllegalArgumentException (bad input) when {@code --model} names neither a directory nor a cached model,
     *                                  saying how to download it
     */
    public Path resolve() {
        Path home = Path.of(System.getProperty("user.home"));
        try {
            return new ModelLocator(HfCache.fromEnv(System.getenv(), home), OllamaStore.fromEnv(System.getenv(), home))
                    .resolve(spec);
        } catch (HubException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
