package dev.tailor.cli;

import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterStack;
import dev.tailor.model.LlamaModel;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The {@code --adapter} and {@code --force} options of commands that run a model. */
public final class AdapterOptions {

    @Option(names = "--adapter", description = "PEFT adapter directory: LoRA, prompt or prefix tuning (repeat to stack, applied in order)")
    List<Path> adapters = new ArrayList<>();

    @Option(names = "--force", description = "apply adapters trained on another base anyway")
    boolean force;

    /**
     * {@code model} with the adapters applied (the model itself when there are none), each in its
     * {@link Adapter#forInference} form: these commands never train them.
     */
    public LlamaModel apply(LlamaModel model, Path modelDir) {
        if (adapters.isEmpty()) {
            return model;
        }
        List<Adapter> loaded = AdapterStack.load(adapters, modelDir, force).stream()
                .map(Adapter::forInference)
                .toList();
        return model.withAdapters(AdapterStack.sites(loaded));
    }
}
