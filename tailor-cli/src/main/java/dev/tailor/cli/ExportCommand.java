package dev.tailor.cli;

import dev.tailor.adapt.AdapterMerge;
import dev.tailor.adapt.AdapterStack;
import dev.tailor.io.gguf.GgmlType;
import dev.tailor.model.GgufExport;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code tailor export}: a model (a base, a fine-tuned model, or a base with adapters merged as {@code tailor merge}
 * merges them) as a GGUF file llama.cpp runs.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a model, with LoRA adapters merged in (stacked in order), as a GGUF file for llama.cpp.")
public final class ExportCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;

    @Option(names = "--adapter", description = "adapter directory to merge first (repeat to stack)")
    List<Path> adapters = List.of();

    @Option(names = "--force", description = "merge adapters trained on another base anyway")
    boolean force;

    @Option(names = "--format", defaultValue = "gguf", description = "output format: gguf (the default)")
    String format;

    @Option(names = "--type", defaultValue = "F16",
            description = "tensor type: F32, F16 (the default), Q8_0 or Q4_0 (llama-quantize's recipe: norms F32, "
                    + "the output head Q8_0, rows not a multiple of 32 F16)")
    String type;

    @Option(names = "--name", description = "general.name (default: a GGUF model's own, else from the model directory's name)")
    String name;

    @Option(names = {"-o", "--output"}, required = true, description = "the GGUF file to write")
    Path output;

    @Override
    public Integer call() {
        if (!format.toLowerCase(Locale.ROOT).equals("gguf")) {
            throw new IllegalArgumentException("--format " + format + " is not supported (gguf)");
        }
        GgmlType fileType;
        try {
            fileType = GgufExport.fileType(type);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--type " + type + " is not supported (F32, F16, Q8_0, Q4_0)", e);
        }
        if (Files.isDirectory(output)) {
            throw new IllegalArgumentException("--output " + output + " is a directory, not a file");
        }
        Path parent = output.toAbsolutePath().getParent();
        if (!Files.isDirectory(parent)) {
            throw new IllegalArgumentException("--output " + output + ": directory " + parent + " does not exist");
        }
        Path dir = model.resolve();
        try (LlamaModel base = LlamaModel.load(dir)) {
            LlamaWeights weights = adapters.isEmpty() ? base.weights()
                    : AdapterMerge.merge(base.weights(), AdapterStack.sites(AdapterStack.load(adapters, dir, force)));
            String title = name != null ? name : GgufExport.defaultName(dir);
            GgufExport.write(output, base.config(), weights, dir, title, fileType);
        }
        System.err.println("GGUF " + fileType + " model written to " + output);
        return 0;
    }
}
