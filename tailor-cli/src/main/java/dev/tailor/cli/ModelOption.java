package dev.tailor.cli;

import dev.tailor.hub.HfCache;
import dev.tailor.hub.HubException;
import dev.tailor.hub.ModelLocator;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The {@code --model} option shared by commands: a model directory or a repo id in the Hugging Face cache. */
public final class ModelOption {

    @Option(names = {"-m", "--model"}, required = true,
            description = "model directory, or ORG/NAME[@REVISION] already in the Hugging Face cache")
    String spec;

    /**
     * The directory holding the model's files.
     *
     * @throws IllegalArgumentException (bad input) when {@code --model} names neither a directory nor a cached model,
     *                                  saying how to download it
     */
    public Path resolve() {
        HfCache cache = HfCache.fromEnv(System.getenv(), Path.of(System.getProperty("user.home")));
        try {
            return new ModelLocator(cache).resolve(spec);
        } catch (HubException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
