package dev.tailor.cli;

import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.AdapterMerge;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.adapt.AdapterStack;
import dev.tailor.adapt.lora.CombinationType;
import dev.tailor.adapt.lora.CombineOptions;
import dev.tailor.adapt.lora.LoraCombine;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.adapt.lora.MajoritySignMethod;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.DType;
import dev.tailor.train.ModelExport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code tailor adapters inspect|combine|merge}: look inside adapters, combine them, merge them into a base. */
@Command(name = "adapters", mixinStandardHelpOptions = true,
        description = "Inspect adapters, combine them into one, or merge them into a base.",
        subcommands = {AdaptersCommand.Inspect.class, AdaptersCommand.Merge.class, AdaptersCommand.Combine.class})
public final class AdaptersCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code tailor adapters inspect DIR}: any adapter type, through the {@link Adapter} interface. */
    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Print an adapter's method, rank and targets (where it has them), parameter count, bytes "
                    + "and base fingerprint.")
    static final class Inspect implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "DIR", description = "adapter directory")
        Path dir;

        @Option(names = "--json", description = "print one JSON object")
        boolean json;

        @Override
        public Integer call() throws Exception {
            ObjectNode out = summary(AdapterFiles.load(dir), dir);
            PrintWriter w = spec.commandLine().getOut();
            if (json) {
                w.println(Json.MAPPER.writeValueAsString(out));
            } else {
                out.properties().forEach(e -> w.printf("%-17s %s%n", e.getKey(),
                        e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
            }
            w.flush();
            return 0;
        }

        /**
         * What inspect prints for {@code adapter} saved in {@code dir}: {@code method} (the {@code peft_type}),
         * {@code description}, those of {@code r}, {@code lora_alpha}, {@code use_rslora}, {@code target_modules},
         * {@code rank_pattern} and {@code alpha_pattern} that the method's config has (target modules as the file
         * gives them, the others as Tailor would save them), then {@code modules} (sites), {@code parameters}, {@code bytes} (of the weights
         * file), {@code base_model} and {@code base_fingerprint}.
         */
        static ObjectNode summary(Adapter adapter, Path dir) throws IOException {
            JsonNode config = AdapterFiles.config(dir);
            ObjectNode out = Json.MAPPER.createObjectNode();
            out.put("method", adapter.type());
            out.put("description", adapter.describe());
            Map<String, Object> saved = adapter.config(null);
            for (String key : List.of("r", "lora_alpha", "use_rslora", "target_modules", "rank_pattern",
                    "alpha_pattern")) {
                JsonNode value = key.equals("target_modules") && config.hasNonNull(key) ? config.get(key)
                        : Json.MAPPER.valueToTree(saved.get(key));
                if (value != null && !value.isNull()) {
                    out.set(key, value);
                }
            }
            AdapterSites sites = adapter.sites();
            out.put("modules", sites.linear().size() + sites.sublayer().size());
            out.put("parameters", adapter.parameterCount());
            out.put("bytes", Files.size(dir.resolve("adapter_model.safetensors")));
            out.put("base_model", config.path("base_model_name_or_path").asText(null));
            out.put("base_fingerprint", AdapterFiles.baseFingerprint(dir));
            return out;
        }
    }

    /** {@code tailor adapters combine}. */
    @Command(name = "combine", mixinStandardHelpOptions = true,
            description = "Combine LoRA adapters into one new adapter, as PEFT's add_weighted_adapter.")
    static final class Combine implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--adapter", required = true, description = "adapter directory (repeat)")
        List<Path> adapters;

        @Option(names = {"--weights", "--weight"}, split = ",",
                description = "one weight per --adapter, in order, comma-separated or repeated (default 1 each)")
        List<Double> weights = new ArrayList<>();

        @Option(names = "--method", defaultValue = "cat", description = "linear, cat, svd, ties, ties_svd, "
                + "dare_linear, dare_linear_svd, dare_ties, dare_ties_svd, magnitude_prune, magnitude_prune_svd "
                + "(default ${DEFAULT-VALUE})")
        String method;

        @Option(names = "--density", description = "fraction of values kept by the ties, dare and magnitude_prune "
                + "methods, in [0, 1]")
        Double density;

        @Option(names = "--majority-sign-method", defaultValue = "total",
                description = "sign election of the ties methods: total or frequency (default ${DEFAULT-VALUE})")
        String majoritySignMethod;

        @Option(names = "--svd-rank", description = "rank of the svd methods' result (default: the largest rank)")
        Integer svdRank;

        @Option(names = "--svd-clamp", description = "quantile at which the svd methods clamp B and A (default: none)")
        Double svdClamp;

        @Option(names = "--seed", defaultValue = "0", description = "seed of dare's pruning and of the randomized SVD "
                + "(default ${DEFAULT-VALUE})")
        long seed;

        @Option(names = {"-o", "--output"}, required = true, description = "output adapter directory")
        Path output;

        @Override
        public Integer call() {
            List<Double> w = weights.isEmpty() ? Collections.nCopies(adapters.size(), 1.0) : weights;
            CombineOptions options = new CombineOptions(CombinationType.parse(method), density,
                    MajoritySignMethod.parse(majoritySignMethod), svdRank, svdClamp, seed);
            LoraModel combined = LoraCombine.combine(adapters, w, options, output);
            spec.commandLine().getErr().println("combined adapter (" + combined.describe() + ") saved to " + output);
            return 0;
        }
    }

    /** {@code tailor adapters merge}. */
    @Command(name = "merge", mixinStandardHelpOptions = true,
            description = "Merge LoRA adapters (stacked in order) into the base and save a standalone model directory.")
    static class Merge implements Callable<Integer> {
        @Mixin
        ModelOption model;

        @Option(names = "--adapter", required = true, description = "adapter directory (repeat to stack)")
        List<Path> adapters;

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
                ObjectNode config = ModelConfig.json(dir);
                ModelExport.save(output, config, merged, dtype, dir);
            }
            System.err.println("merged model saved to " + output);
            return 0;
        }
    }
}
