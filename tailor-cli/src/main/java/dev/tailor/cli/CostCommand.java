package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tailor.cost.CostBase;
import dev.tailor.cost.CostEstimate;
import dev.tailor.cost.CostModel;
import dev.tailor.cost.CostReport;
import dev.tailor.cost.CostSettings;
import dev.tailor.cost.DatasetTokens;
import dev.tailor.cost.HardwareProfile;
import dev.tailor.cost.HardwareProfiles;
import dev.tailor.cost.MachineCalibration;
import dev.tailor.cost.Precision;
import dev.tailor.train.TrainingMethod;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.DatasetFormat;
import dev.tailor.train.optim.OptimizerType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tailor cost}: what training methods cost on a model and a machine, before anything runs. */
@Command(name = "cost", mixinStandardHelpOptions = true, sortOptions = false, modelTransformer = MethodFlags.class,
        description = "Predict what fine-tuning or an adapter costs on a model (a directory, a cached repo id, or a "
                + "bare config.json) and a machine: parameters, memory, FLOPs, time, money, artifact, storage and "
                + "serving for several tenants.")
public final class CostCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", description = "the model's config.json (the weights need not exist)")
    Path config;
    @Option(names = {"-m", "--model"},
            description = "model directory, GGUF file, cached ORG/NAME[@REVISION] or ollama:NAME[:TAG]")
    String model;
    @Option(names = "--method", split = ",", description = "full, partial, or an adapter method: "
            + "${COMPLETION-CANDIDATES}; repeat it or give a comma list to compare several (default full); each method's "
            + "options follow the others", completionCandidates = TrainCommand.MethodNames.class)
    List<String> methods = new ArrayList<>(List.of("full"));
    @Mixin
    PartialPlanOptions partial = new PartialPlanOptions();
    @Option(names = "--seq-len", defaultValue = "512", description = "tokens per packed sequence (default ${DEFAULT-VALUE})")
    int seqLen;
    @Option(names = "--batch-size", defaultValue = "4", description = "sequences per micro-batch (default ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--grad-accum", defaultValue = "1", description = "micro-batches per update (default ${DEFAULT-VALUE})")
    int gradAccum;
    @Option(names = "--tokens", description = "training tokens in all (default: " + CostSettings.DEFAULT_TOKENS
            + ", or those of --data)")
    Long tokens;
    @Option(names = "--data", description = "count the training tokens of this data, as tailor train would feed them "
            + "(needs --model, for its tokenizer)")
    Path data;
    @Option(names = "--epochs", defaultValue = "1", description = "with --data: passes over it (default ${DEFAULT-VALUE})")
    double epochs;
    @Option(names = "--eval-split", defaultValue = "0.1", description = "with --data: the share held out, as tailor "
            + "train (default ${DEFAULT-VALUE})")
    double evalSplit;
    @Option(names = "--format", description = "with --data: text, completion, alpaca, chat or classification "
            + "(default: detected)")
    String format;
    @Option(names = "--base-dtype", description = "frozen weights: F32, BF16, F16, or quantized Q8_0, Q4_0, NF4 "
            + "(default: the model's torch_dtype)")
    String baseDtype;
    @Option(names = "--trainable-dtype", defaultValue = "F32", description = "trainable weights and gradients: F32, "
            + "BF16 or F16 (default ${DEFAULT-VALUE}, as Tailor trains)")
    String trainableDtype;
    @Option(names = "--activation-dtype", defaultValue = "F32", description = "activations and products: F32, BF16 or "
            + "F16 (default ${DEFAULT-VALUE}, as Tailor computes); picks the hardware's F32 or 16-bit peak")
    String activationDtype;
    @Option(names = "--gradient-checkpointing", description = "recompute activations in backward to save memory")
    boolean gradientCheckpointing;
    @Option(names = "--optimizer", defaultValue = "adamw", description = "adamw or sgd (default ${DEFAULT-VALUE})")
    String optimizer;
    @Option(names = "--save-dtype", defaultValue = "base", description = "a fine-tuned model's saved type: base, F32, "
            + "BF16 or F16 (default ${DEFAULT-VALUE})")
    String saveDtype;
    @Option(names = "--hardware", defaultValue = MachineCalibration.NAME, description = "A100-40, A100-80, H100, H200, "
            + "L4, T4, a profile of --hardware-file, or this-machine (measured once with Tailor's kernels and cached; "
            + "default)")
    String hardware;
    @Option(names = "--hardware-file", description = "JSON or YAML file of more hardware profiles (the form of the "
            + "built-in hardware.json)")
    Path hardwareFile;
    @Option(names = "--remeasure", description = "measure this machine again instead of reading the cached measurement")
    boolean remeasure;
    @Option(names = "--price-per-hour", description = "the machine's price per hour (default: the profile's)")
    Double pricePerHour;
    @Option(names = "--utilization", description = "the share of the peak a run reaches, in (0, 1] (default: the "
            + "profile's)")
    Double utilization;
    @Option(names = "--tenants", defaultValue = "1", description = "customized models stored and served side by side "
            + "(default ${DEFAULT-VALUE})")
    int tenants;
    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if ((config == null) == (model == null)) {
            throw new IllegalArgumentException("give either --config CONFIG.json or --model MODEL");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path modelDir = null;
        CostBase base;
        if (model != null) {
            ModelOption option = new ModelOption();
            option.spec = model;
            modelDir = option.resolve();
            base = CostBase.read(modelDir, model);
        } else {
            base = CostBase.read(config, config.toString());
        }
        HardwareProfiles profiles = HardwareProfiles.builtIn();
        if (hardwareFile != null) {
            profiles = profiles.with(hardwareFile, readProfiles(hardwareFile));
        }
        Path cache = MachineCalibration.cacheDir(System.getenv(), Path.of(System.getProperty("user.home")));
        HardwareProfile machine = profiles.get(hardware, () -> MachineCalibration.profile(cache, remeasure,
                err::println));
        DatasetTokens.Counted counted = trainingTokens(modelDir);
        CostSettings settings = new CostSettings(seqLen, batchSize, gradAccum, counted.tokens(),
                baseDtype == null ? null : Precision.parse("base_dtype", baseDtype, false),
                Precision.parse("trainable_dtype", trainableDtype, true),
                Precision.parse("activation_dtype", activationDtype, true), gradientCheckpointing,
                OptimizerType.parse(optimizer),
                saveDtype.equalsIgnoreCase("base") ? null : Precision.parse("save_dtype", saveDtype, true), machine,
                pricePerHour, utilization, tenants, counted.lossShare());
        Map<String, Map<String, List<String>>> given = MethodFlags.given(spec, methods, err);
        List<CostEstimate> estimates = new ArrayList<>();
        for (String name : methods) {
            TrainingMethod method = TrainingMethod.of(name, name.equals("partial") ? partial.plan() : null,
                    given.get(name));
            estimates.add(CostModel.estimate(base, method, settings));
        }
        CostReport report = new CostReport(base, settings, estimates);
        out.print(json ? Json.PRETTY.writeValueAsString(report.json()) + System.lineSeparator() : report.table());
        out.flush();
        return 0;
    }

    /**
     * The training tokens: {@code --tokens}, those of {@code --data}, or the default; with the share that carry a loss
     * ({@code --data}'s, else every token's).
     */
    private DatasetTokens.Counted trainingTokens(Path modelDir) {
        if (data == null) {
            return new DatasetTokens.Counted(tokens != null ? tokens : CostSettings.DEFAULT_TOKENS, 1);
        }
        if (tokens != null) {
            throw new IllegalArgumentException("give --tokens or --data, not both");
        }
        if (modelDir == null) {
            throw new IllegalArgumentException("--data needs --model (its tokenizer counts the tokens); with "
                    + "--config, give --tokens");
        }
        if (!Files.isRegularFile(data)) {
            throw new IllegalArgumentException("--data " + data + ": not a readable file");
        }
        DataConfig dataConfig = new DataConfig(data, null, format == null ? null : DatasetFormat.parse(format),
                evalSplit, seqLen, batchSize, 42, true, false);
        return DatasetTokens.counted(dataConfig, modelDir, epochs);
    }

    /** A JSON or YAML file of hardware profiles. */
    private static JsonNode readProfiles(Path file) {
        try {
            return new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("--hardware-file " + file + ": cannot read it: " + e.getMessage(), e);
        }
    }

}
