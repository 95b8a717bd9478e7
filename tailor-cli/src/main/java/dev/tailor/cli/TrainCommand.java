package dev.tailor.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.adapt.compacter.CompacterModel;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.NamedTensors;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.ModelExport;
import dev.tailor.train.ProgressReporter;
import dev.tailor.train.RandomInit;
import dev.tailor.train.TrainOptions;
import dev.tailor.train.Trainer;
import dev.tailor.train.data.ClassificationScorer;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.DatasetFormat;
import dev.tailor.train.data.ExampleEncoder;
import dev.tailor.train.data.TrainingData;
import dev.tailor.train.nn.TrainableLlama;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code tailor train}: full or partial fine-tuning, or training from scratch. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Fine-tune a model fully or partially, train an adapter (LoRA, prompt or prefix tuning), "
                + "or train a model from scratch, on JSON Lines data.")
public final class TrainCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

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
            + "lora, dora, ia3, prompt, prefix, seq_bn, double_seq_bn, compacter, compacter++ "
            + "(default ${DEFAULT-VALUE})")
    String method;
    @Mixin
    Ia3Options ia3Options = new Ia3Options();
    @Mixin
    BottleneckOptions bottleneckOptions = new BottleneckOptions();
    @Mixin
    CompacterOptions compacterOptions = new CompacterOptions();
    @CommandLine.Mixin
    PromptOptions promptOptions = new PromptOptions();
    @Mixin
    LoraOptions lora = new LoraOptions();
    @Option(names = "--train-layers", description = "partial: layer range FROM-TO, e.g. 6-7")
    String trainLayers;
    @Option(names = "--train-modules", split = ",", description = "partial: module globs, e.g. mlp.*,self_attn.o_proj")
    List<String> trainModules = new ArrayList<>();
    @Option(names = "--bias-norm-only", description = "partial: train only norms and biases (BitFit)")
    boolean biasNormOnly;
    @Option(names = "--train-embeddings", description = "partial: also train the input embeddings")
    boolean trainEmbeddings;
    @Option(names = "--train-head", description = "partial: also train the final norm and lm_head")
    boolean trainHead;
    @Option(names = {"-o", "--output"}, required = true, description = "output directory")
    Path output;
    @Option(names = "--lr", defaultValue = "1e-4", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;
    @Option(names = "--steps", defaultValue = "0", description = "optimizer updates (0: use --epochs)")
    int steps;
    @Option(names = "--epochs", defaultValue = "1", description = "passes over the data (default ${DEFAULT-VALUE})")
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
            return withRecipe();
        }
        PrintWriter err = spec.commandLine().getErr();
        DatasetFormat dataFormat = format == null ? null : DatasetFormat.parse(format);
        TrainOptions options = new TrainOptions(steps, epochs, gradAccum, lr, warmupSteps, schedule, weightDecay,
                maxGradNorm, optimizer, evalEvery, saveEvery, keepCheckpoints, logEvery, gradientCheckpointing);
        FreezePlan plan = freezePlan();
        Base base = openBase();
        try {
            Adapter adapter = newAdapter(base.config, base);
            int virtualTokens = adapter == null ? 0 : adapter.sites().virtualTokens();
            int len = Math.min(seqLen, base.config.maxPositions() - virtualTokens);
            DataConfig dataConfig = new DataConfig(data, evalData, dataFormat, evalData != null ? 0 : evalSplit, len,
                    batchSize, seed, true, skipBadLines);
            TrainingData trainingData = TrainingData.load(dataConfig, base.tokenizer, base.chatTemplate);
            err.println(trainingData.summary());
            TrainableLlama trainable = TrainableLlama.create(base.config, base.weights,
                    plan != null ? plan : name -> false, adapter == null ? AdapterSites.NONE : adapter.sites());
            long trainableCount = trainable.parameters().stream().mapToLong(p -> p.size()).sum();
            long total = totalParameters(base.weights);
            err.printf("%s: %,d trainable of %,d parameters (%.2f%%); backward stops at layer %d%n",
                    plan != null ? plan.describe() : adapter.describe(),
                    trainableCount, total, 100.0 * trainableCount / total, trainable.stopLayer());
            ClassificationScorer scorer = trainingData.format() == DatasetFormat.CLASSIFICATION
                    && !trainingData.split().eval().isEmpty()
                    ? new ClassificationScorer(new ExampleEncoder(base.tokenizer, base.chatTemplate,
                    DatasetFormat.CLASSIFICATION), trainingData.labels()) : null;
            Files.createDirectories(output);
            boolean terminal = System.console() != null && System.console().isTerminal();
            Trainer trainer = new Trainer(trainable, trainingData, options, output, scorer,
                    new ProgressReporter(err, terminal, 10), configHash());
            Trainer.Summary s = trainer.run(resume);
            if (adapter != null) {
                adapter.save(output, model, base.fingerprint());
            } else {
                DType dtype = saveDtype.equalsIgnoreCase("base") ? base.dtype
                        : DType.fromSafetensors(saveDtype.toUpperCase());
                ModelExport.save(output, base.configJson, trainable.asWeights(), dtype, base.tokenizerSource);
            }
            err.printf("done: %d steps in %.1f s, %.0f tokens/s, peak RSS %.0f MiB, train loss %.4f, "
                            + "eval loss %.4f%s%n%s saved to %s (metrics.jsonl, training_state/)%n",
                    s.steps(), s.seconds(), s.tokensPerSecond(), s.peakRssMib(), s.trainLoss(), s.evalLoss(),
                    Double.isNaN(s.evalAccuracy()) ? "" : String.format(", eval accuracy %.3f", s.evalAccuracy()),
                    adapter != null ? adapter.type() + " adapter" : "model", output);
            return 0;
        } finally {
            if (base.closeable != null) {
                base.closeable.close();
            }
        }
    }

    private Integer withRecipe() {
        List<String> merged = new ArrayList<>(Recipe.toArgs(recipe, spec));
        List<String> original = spec.commandLine().getParseResult().originalArgs();
        for (int i = original.indexOf(spec.name()) + 1; i < original.size(); i++) {
            if (original.get(i).equals("--recipe")) {
                i++;
            } else if (!original.get(i).startsWith("--recipe=")) {
                merged.add(original.get(i));
            }
        }
        TrainCommand effective = new TrainCommand();
        CommandLine cl = new CommandLine(effective).setOverwrittenOptionsAllowed(true);
        cl.setExecutionExceptionHandler(spec.commandLine().getExecutionExceptionHandler());
        cl.setOut(spec.commandLine().getOut());
        cl.setErr(spec.commandLine().getErr());
        return cl.execute(merged.toArray(String[]::new));
    }

    /** The base tensors to train; null for adapter methods, which train only their own parameters. */
    private FreezePlan freezePlan() {
        return switch (method) {
            case "full" -> FreezePlan.fullFineTuning();
            case "partial" -> new FreezePlan(false, trainLayers == null ? null : FreezePlan.parseLayers(trainLayers),
                    trainModules, biasNormOnly, trainEmbeddings, trainHead);
            default -> null;
        };
    }

    /** The adapter to train, or null for full and partial fine-tuning. */
    private Adapter newAdapter(ModelConfig config, Base base) {
        return switch (method) {
            case "full", "partial" -> null;
            case "lora", "dora" -> lora.create(method.equals("dora"), config, base.weights, seed);
            case "ia3" -> ia3Options.create(lora.targetModules, config, seed);
            case "prompt" -> promptOptions.promptTuning(config, base.weights.embed(), base.tokenizer, model, seed);
            case "prefix" -> promptOptions.prefixTuning(config, seed);
            case "seq_bn", "double_seq_bn" -> bottleneckOptions.create(method, config, seed);
            case "compacter", "compacter++" -> CompacterModel.create(
                    compacterOptions.settings(method, bottleneckOptions.wholeReductionFactor()), config, seed);
            default -> throw new IllegalArgumentException("--method must be full, partial, lora, dora, ia3, prompt, "
                    + "prefix, seq_bn, double_seq_bn, compacter or compacter++, got " + method);
        };
    }

    /** What training starts from. */
    private record Base(ModelConfig config, ObjectNode configJson, LlamaWeights weights, Tokenizer tokenizer,
                        ChatTemplate chatTemplate, Path tokenizerSource, DType dtype, AutoCloseable closeable) {
        /** The fingerprint of a pretrained base (null for a random one, which has no files). */
        String fingerprint() {
            return closeable == null ? null : BaseFingerprint.compute(tokenizerSource);
        }
    }

    private Base openBase() throws IOException {
        if (init.equals("random")) {
            if (modelConfig == null || tokenizerDir == null) {
                throw new IllegalArgumentException("--init random needs --config CONFIG.json and --tokenizer DIR");
            }
            ObjectNode json = (ObjectNode) JSON.readTree(modelConfig.toFile());
            ModelConfig config = ModelConfig.parse(modelConfig, json);
            Tokenizer tokenizer = Tokenizers.load(tokenizerDir);
            return new Base(config, json, RandomInit.weights(config, seed), tokenizer, chatTemplate(tokenizerDir),
                    tokenizerDir, DType.F32, null);
        }
        if (!init.equals("pretrained")) {
            throw new IllegalArgumentException("--init must be pretrained or random, got " + init);
        }
        if (model == null) {
            throw new IllegalArgumentException("--model is required (or --init random --config C.json)");
        }
        ModelOption option = new ModelOption();
        option.spec = model;
        Path dir = option.resolve();
        LlamaModel llama = LlamaModel.load(dir);
        ObjectNode json = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        return new Base(llama.config(), json, llama.weights(), Tokenizers.load(dir), chatTemplate(dir), dir,
                llama.weights().embed().dtype(), llama);
    }

    private static ChatTemplate chatTemplate(Path dir) {
        try {
            return ChatTemplate.load(dir);
        } catch (ChatTemplateException e) {
            return null;
        }
    }

    private static long totalParameters(LlamaWeights w) {
        long n = 0;
        for (Object t : NamedTensors.of(w).values()) {
            n += t instanceof WeightMatrix m ? (long) m.rows() * m.cols() : ((float[]) t).length;
        }
        return n;
    }

    /** Identifies the run: everything that changes what is trained (not --resume or logging). */
    private String configHash() throws NoSuchAlgorithmException {
        String key = String.join("|", String.valueOf(model), init, String.valueOf(modelConfig), data.toString(),
                String.valueOf(evalData), Double.toString(evalSplit), String.valueOf(format), method,
                String.valueOf(trainLayers), trainModules.toString(), Boolean.toString(biasNormOnly),
                Boolean.toString(trainEmbeddings), Boolean.toString(trainHead), Double.toString(lr),
                Integer.toString(steps), Double.toString(epochs), Integer.toString(batchSize), Integer.toString(seqLen),
                Integer.toString(gradAccum), Integer.toString(warmupSteps), schedule, Double.toString(weightDecay),
                Double.toString(maxGradNorm), optimizer, Long.toString(seed), lora.key())
                + (method.equals("ia3") ? "|" + ia3Options.key() : "");
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest, 0, 16);
    }
}
