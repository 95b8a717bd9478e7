package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.adapt.AdapterMerge;
import dev.tailor.adapt.AdapterStack;
import dev.tailor.adapt.lora.LoraAdapter;
import dev.tailor.adapt.lora.LoraCombine;
import dev.tailor.adapt.lora.PeftLoraAdapter;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.DType;
import dev.tailor.train.ModelExport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tailor adapters inspect|merge}: look inside adapters and merge them into a standalone model. */
@Command(name = "adapters", mixinStandardHelpOptions = true,
        description = "Inspect adapters, combine them into one, or merge them into a base.",
        subcommands = {AdaptersCommand.Inspect.class, AdaptersCommand.Merge.class, AdaptersCommand.Combine.class})
public final class AdaptersCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code tailor adapters inspect DIR}. */
    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Print an adapter's method, rank, targets, parameter count, bytes and base fingerprint.")
    static final class Inspect implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", description = "adapter directory")
        Path dir;

        @Option(names = "--json", description = "print one JSON object")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode config = JSON.readTree(dir.resolve("adapter_config.json").toFile());
            Map<String, LoraAdapter> adapters = PeftLoraAdapter.load(dir);
            long params = adapters.values().stream().flatMap(a -> a.parameters().stream()).mapToLong(p -> p.size())
                    .sum();
            ObjectNode out = JSON.createObjectNode();
            out.put("method", config.path("peft_type").asText());
            out.put("r", config.path("r").asInt());
            out.put("lora_alpha", config.path("lora_alpha").asDouble());
            out.put("use_rslora", config.path("use_rslora").asBoolean(false));
            out.set("target_modules", config.get("target_modules"));
            out.put("modules", adapters.size());
            out.put("parameters", params);
            out.put("bytes", Files.size(dir.resolve("adapter_model.safetensors")));
            out.put("base_model", config.path("base_model_name_or_path").asText(null));
            out.put("base_fingerprint", PeftLoraAdapter.baseFingerprint(dir));
            if (json) {
                System.out.println(JSON.writeValueAsString(out));
            } else {
                out.properties().forEach(e -> System.out.printf("%-17s %s%n", e.getKey(),
                        e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
            }
            return 0;
        }
    }

    /** {@code tailor adapters combine}. */
    @Command(name = "combine", mixinStandardHelpOptions = true,
            description = "Combine LoRA adapters into one new adapter (weighted; method cat: the exact weighted sum).")
    static final class Combine implements Callable<Integer> {
        @Option(names = "--adapter", required = true, description = "adapter directory (repeat)")
        java.util.List<Path> adapters;

        @Option(names = "--weight", description = "one weight per --adapter, in order (default 1 each)")
        java.util.List<Double> weights = new java.util.ArrayList<>();

        @Option(names = "--method", defaultValue = "cat", description = "combination method (default ${DEFAULT-VALUE})")
        String method;

        @Option(names = {"-o", "--output"}, required = true, description = "output adapter directory")
        Path output;

        @Override
        public Integer call() {
            if (!method.equals("cat")) {
                throw new IllegalArgumentException("--method " + method + " is not supported yet (supported: cat)");
            }
            java.util.List<Double> w = weights.isEmpty() ? java.util.Collections.nCopies(adapters.size(), 1.0) : weights;
            LoraCombine.combine(adapters, w, output);
            System.err.println("combined adapter saved to " + output);
            return 0;
        }
    }

    /** {@code tailor adapters merge}. */
    @Command(name = "merge", mixinStandardHelpOptions = true,
            description = "Merge LoRA adapters (stacked in order) into the base and save a standalone model directory.")
    static final class Merge implements Callable<Integer> {
        @Mixin
        ModelOption model;

        @Option(names = "--adapter", required = true, description = "adapter directory (repeat to stack)")
        java.util.List<Path> adapters;

        @Option(names = "--force", description = "merge adapters trained on another base anyway")
        boolean force;

        @Option(names = {"-o", "--output"}, required = true, description = "output model directory")
        Path output;

        @Option(names = "--save-dtype", defaultValue = "base", description = "base (the base's type), F32, BF16 or F16")
        String saveDtype;

        @Override
        public Integer call() throws Exception {
            Path dir = model.resolve();
            try (LlamaModel base = LlamaModel.load(dir)) {
                var merged = AdapterMerge.merge(base.weights(), AdapterStack.sites(AdapterStack.load(adapters, dir, force)));
                DType dtype = saveDtype.equalsIgnoreCase("base") ? base.weights().embed().dtype()
                        : DType.fromSafetensors(saveDtype.toUpperCase());
                ObjectNode config = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
                ModelExport.save(output, config, merged, dtype, dir);
            }
            System.err.println("merged model saved to " + output);
            return 0;
        }
    }
}
