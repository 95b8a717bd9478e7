package dev.tailor.cli;

import dev.tailor.train.TrainingMethod;
import dev.tailor.train.TrainingRun;
import dev.tailor.train.optim.OptimizerType;
import dev.tailor.train.optim.ScheduleType;
import dev.tailor.tensor.DType;
import dev.tailor.train.RandomInit;
import dev.tailor.train.TrainOptions;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.DatasetFormat;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code tailor train}: full or partial fine-tuning, or training from scratch. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false, modelTransformer = MethodFlags.class,
        description = "Fine-tune a model fully or partially, train an adapter (LoRA, prompt or prefix tuning), "
                + "or train a model from scratch, on JSON Lines data.")
public final class TrainCommand implements Callable<Integer> {
    @Mixin
    QuantizeOption quantize;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--recipe", description = "YAML/JSON file of these options (keys = option names); flags override it")
    Path recipe;
    @Option(names = {"-m", "--model"}, description = "base model: directory or cached ORG/NAME (not with --init random)")
    String model;
    @Option(names = "--init", defaultValue = "pretrained", description = "pretrained (default) or random (from --config)")
    String init;
    @Option(names = "--config", description = "with --init random: the model's config.json")
    Path modelConfig;
    @Option(names = "--tokenizer", description = "with --init random: directory of the tokenizer files")
    Path tokenizerDir;
    @Option(names = "--data", required = true, description = "training data (.jsonl, or .txt as one text)")
    Path data;
    @Option(names = "--eval-data", description = "evaluation data (instead of --eval-split)")
    Path evalData;
    @Option(names = "--eval-split", defaultValue = "0.1", description = "share of --data held out (default ${DEFAULT-VALUE})")
    double evalSplit;
    @Option(names = "--format", description = "text, completion, alpaca, chat or classification (default: detected)")
    String format;
    @Option(names = "--skip-bad-lines", description = "skip malformed lines (counted) instead of failing")
    boolean skipBadLines;
    @Option(names = "--method", defaultValue = "full", description = "full, partial, or an adapter method: "
            + "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}); each method's options follow the others",
            completionCandidates = MethodNames.class)
    String method;
    @Mixin
    PartialPlanOptions partial = new PartialPlanOptions();
    @Option(names = {"-o", "--output"}, required = true, description = "output directory")
    Path output;
    @Option(names = "--lr", defaultValue = "1e-4", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;
    @Option(names = "--steps", description = "optimizer updates, at least 1 (default: --epochs passes over the data)")
    Integer steps;
    @Option(names = "--epochs", defaultValue = "1", description = "passes over the data when --steps is not given "
            + "(default ${DEFAULT-VALUE})")
    double epochs;
    @Option(names = "--batch-size", defaultValue = "4", description = "sequences per micro-batch (default ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--seq-len", defaultValue = "512", description = "tokens per packed sequence (default ${DEFAULT-VALUE})")
    int seqLen;
    @Option(names = "--grad-accum", defaultValue = "1", description = "micro-batches per update (default ${DEFAULT-VALUE})")
    int gradAccum;
    @Option(names = "--warmup-steps", defaultValue = "0", description = "linear warm-up updates")
    int warmupSteps;
    @Option(names = "--schedule", defaultValue = "linear", description = "constant, linear or cosine (default ${DEFAULT-VALUE})")
    String schedule;
    @Option(names = "--weight-decay", defaultValue = "0", description = "decoupled weight decay (default ${DEFAULT-VALUE})")
    double weightDecay;
    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "clip the global gradient norm; 0 = off")
    double maxGradNorm;
    @Option(names = "--optimizer", defaultValue = "adamw", description = "adamw or sgd (default ${DEFAULT-VALUE})")
    String optimizer;
    @Option(names = "--eval-every", defaultValue = "0", description = "evaluate every N updates (0: at the end)")
    int evalEvery;
    @Option(names = "--save-every", defaultValue = "0", description = "checkpoint every N updates (0: at the end)")
    int saveEvery;
    @Option(names = "--keep-checkpoints", defaultValue = "2", description = "checkpoints kept (default ${DEFAULT-VALUE})")
    int keepCheckpoints;
    @Option(names = "--log-every", defaultValue = "1", description = "metrics line every N updates")
    int logEvery;
    @Option(names = "--gradient-checkpointing", description = "recompute activations in backward to save memory")
    boolean gradientCheckpointing;
    @Option(names = "--save-dtype", defaultValue = "base", description = "base (the base's type), F32, BF16 or F16")
    String saveDtype;
    @Option(names = "--seed", defaultValue = "42", description = "seeds data order and random init (default ${DEFAULT-VALUE})")
    long seed;
    @Option(names = "--resume", description = "continue from the newest checkpoint in --output")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        if (recipe != null) {
            return Recipe.rerun(recipe, "--recipe", spec, TrainCommand::new);
        }
        PrintWriter err = spec.commandLine().getErr();
        TrainingRun.Base base = switch (init) {
            case "random" -> {
                if (modelConfig == null || tokenizerDir == null) {
                    throw new IllegalArgumentException("--init random needs --config CONFIG.json and --tokenizer DIR");
                }
                if (quantize.type != null) {
                    throw new IllegalArgumentException("--quantize quantizes a pretrained --model's weights; "
                            + "--init random trains every weight in F32");
                }
                yield new TrainingRun.Base.RandomInit(modelConfig, tokenizerDir);
            }
            case "pretrained" -> {
                if (model == null) {
                    throw new IllegalArgumentException("--model is required (or --init random --config C.json)");
                }
                ModelOption option = new ModelOption();
                option.spec = model;
                yield new TrainingRun.Base.Pretrained(option.resolve(), model, quantize.loading());
            }
            default -> throw new IllegalArgumentException("--init must be pretrained or random, got " + init);
        };
        TrainingMethod trainingMethod = TrainingMethod.of(method, method.equals("partial") ? partial.plan() : null,
                MethodFlags.given(spec, method, err));
        TrainOptions options = new TrainOptions(steps, epochs, gradAccum, lr, warmupSteps, ScheduleType.parse(schedule),
                weightDecay, maxGradNorm, OptimizerType.parse(optimizer), evalEvery, saveEvery, keepCheckpoints,
                logEvery, gradientCheckpointing);
        DataConfig dataConfig = new DataConfig(data, evalData, format == null ? null : DatasetFormat.parse(format),
                evalData != null ? 0 : evalSplit, seqLen, batchSize, seed, true, skipBadLines);
        DType dtype = saveDtype.equalsIgnoreCase("base") ? null : DType.fromSafetensors(saveDtype.toUpperCase());
        boolean terminal = System.console() != null && System.console().isTerminal();
        TrainingRun.run(new TrainingRun.Spec(base, dataConfig, trainingMethod, options, output, dtype, resume),
                err, terminal);
        return 0;
    }


    /** The names {@code --method} accepts, for its help. */
    static final class MethodNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return TrainingMethod.names().iterator();
        }
    }
}
