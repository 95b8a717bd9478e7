package dev.tailor.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.io.PythonJson;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.LoadOptions;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.NamedTensors;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import dev.tailor.train.data.ClassificationScorer;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.DatasetFormat;
import dev.tailor.train.data.ExampleEncoder;
import dev.tailor.train.data.JsonLines;
import dev.tailor.train.data.TrainingData;
import dev.tailor.train.nn.TrainableLlama;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One training run from its settings to its output directory: opens (or randomly initialises) the base, makes the
 * method's trainable model, loads the data, trains ({@link Trainer}, resuming when asked) and saves the adapter or
 * the fine-tuned model. What the command line's {@code tailor train} runs once it has parsed its flags.
 */
public final class TrainingRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingRun() {
    }

    /** Where the base comes from. */
    public sealed interface Base {
        /**
         * A Hugging Face model directory.
         *
         * @param dir  the directory
         * @param name    how the user named it (a path or a repo id), recorded in adapters as
         *                {@code base_model_name_or_path}
         * @param loading how its weights are loaded (quantized at load for QLoRA-style training, say)
         */
        record Pretrained(Path dir, String name, LoadOptions loading) implements Base {
            /** A base loaded in its stored types. */
            public Pretrained(Path dir, String name) {
                this(dir, name, LoadOptions.DEFAULT);
            }
        }

        /**
         * Fresh random weights (training from scratch).
         *
         * @param config       the model's {@code config.json}
         * @param tokenizerDir the directory of its tokenizer files
         */
        record RandomInit(Path config, Path tokenizerDir) implements Base {
        }
    }

    /**
     * Everything that says what a run trains and where it goes.
     *
     * @param base      the base model
     * @param data      the data; its seed also seeds fresh weights and adapters, its sequence length is cut to what
     *                  the model's context leaves after virtual tokens
     * @param method    what trains
     * @param options   the optimisation
     * @param output    the output directory
     * @param saveDtype the type of a fine-tuned model's saved weights, or null for the base's
     * @param resume    continue from the newest checkpoint in {@code output}
     */
    public record Spec(Base base, DataConfig data, TrainingMethod method, TrainOptions options, Path output,
                           DType saveDtype, boolean resume) {
    }

    /**
     * Runs {@code spec}, reporting on {@code log} (data summary, parameter counts, progress, the result).
     *
     * @throws InvalidOptionException   naming an option whose value is wrong
     * @throws IllegalArgumentException naming what is wrong with the base, the data or the output
     * @throws IllegalStateException    when resuming a run trained with other settings
     * @throws TrainingDivergedException when the loss, the gradients or the weights stop being finite; the
     *                                   fine-tuned model or adapter is then not saved
     */
    public static Trainer.Summary run(Spec spec, PrintWriter log, boolean terminal) throws IOException {
        return run(spec, log, terminal, TrainingListener.NONE);
    }

    /**
     * As {@link #run(Spec, PrintWriter, boolean)}, telling {@code listener} of the resume, every metrics line and
     * every checkpoint as they happen; an exception it throws stops the run there, nothing saved but the checkpoints
     * before.
     */
    public static Trainer.Summary run(Spec spec, PrintWriter log, boolean terminal, TrainingListener listener)
            throws IOException {
        JsonLines.requireReadableFile(spec.data().trainFile());
        if (spec.data().evalFile() != null) {
            JsonLines.requireReadableFile(spec.data().evalFile());
        }
        OutputDirectory output = output(spec);
        boolean training = false;
        OpenBase base = null;
        try {
            base = open(spec);
            long seed = spec.data().seed();
            Adapter adapter = switch (spec.method()) {
                case TrainingMethod.FineTuning f -> null;
                case TrainingMethod.AdapterTraining a -> a.method().create(a.name(), a.options(),
                        new AdapterBase(base.config, base.weights, base.tokenizer, base.name), seed);
            };
            FreezePlan plan = spec.method() instanceof TrainingMethod.FineTuning f ? f.plan() : null;
            int virtualTokens = adapter == null ? 0 : adapter.sites().virtualTokens();
            DataConfig d = spec.data();
            DataConfig dataConfig = new DataConfig(d.trainFile(), d.evalFile(), d.format(), d.evalFraction(),
                    Math.min(d.seqLen(), base.config.maxPositions() - virtualTokens), d.batchSize(), seed,
                    d.chunkLongTexts(), d.skipBadLines());
            TrainingData trainingData = TrainingData.load(dataConfig, base.tokenizer, base.chatTemplate);
            log.println(trainingData.summary());
            boolean scored = trainingData.format() == DatasetFormat.CLASSIFICATION
                    && !trainingData.split().eval().isEmpty();
            if (scored) {
                ClassificationScorer.checkLabelCount(d.trainFile(), trainingData.labels(),
                        "training without held-out data (an eval split of 0, no eval data) scores no accuracy");
            }
            TrainableLlama trainable = TrainableLlama.create(base.config, base.weights,
                    plan != null ? plan : name -> false,
                    adapter == null ? AdapterSites.NONE : adapter.sites());
            long trainableCount = trainable.parameters().stream().mapToLong(p -> p.size()).sum();
            long total = totalParameters(base.weights);
            log.printf("%s: %,d trainable of %,d parameters (%.2f%%); backward stops at layer %d%n",
                    adapter == null ? plan.describe() : adapter.describe(),
                    trainableCount, total, 100.0 * trainableCount / total, trainable.stopLayer());
            ClassificationScorer scorer = scored
                    ? new ClassificationScorer(new ExampleEncoder(base.tokenizer, base.chatTemplate,
                    DatasetFormat.CLASSIFICATION), trainingData.labels()) : null;
            Trainer trainer = new Trainer(trainable, trainingData, spec.options(), spec.output(), scorer,
                    new ProgressReporter(log, terminal, 10), identity(spec, adapter), listener);
            training = true;
            Trainer.Summary s = trainer.run(spec.resume());
            if (adapter != null) {
                adapter.save(spec.output(), base.name, base.fingerprint());
            } else {
                ModelExport.save(spec.output(), base.configJson, trainable.asWeights(),
                        spec.saveDtype() != null ? spec.saveDtype() : base.dtype, base.tokenizerSource);
            }
            log.printf("done: %d steps in %.1f s, %.0f tokens/s, peak RSS %.0f MiB, train loss %.4f, "
                            + "eval loss %.4f%s%n%s saved to %s (metrics.jsonl, training_state/)%n",
                    s.steps(), s.seconds(), s.tokensPerSecond(), s.peakRssMib(), s.trainLoss(), s.evalLoss(),
                    Double.isNaN(s.evalAccuracy()) ? "" : String.format(", eval accuracy %.3f", s.evalAccuracy()),
                    adapter != null ? adapter.type() + " adapter" : "model", spec.output());
            return s;
        } finally {
            if (!training) {
                output.removeIfUnused();
            }
            if (base != null && base.model != null) {
                base.model.close();
            }
        }
    }

    /** The output directory, checked against the run's inputs and created. */
    private static OutputDirectory output(Spec spec) {
        List<OutputDirectory.Input> dirs = new ArrayList<>();
        List<OutputDirectory.Input> files = new ArrayList<>();
        switch (spec.base()) {
            case Base.Pretrained p -> dirs.add(new OutputDirectory.Input(p.dir(), "base model's directory"));
            case Base.RandomInit r -> {
                dirs.add(new OutputDirectory.Input(r.tokenizerDir(), "tokenizer directory"));
                files.add(new OutputDirectory.Input(r.config(), "model config"));
            }
        }
        files.add(new OutputDirectory.Input(spec.data().trainFile(), "data file"));
        if (spec.data().evalFile() != null) {
            files.add(new OutputDirectory.Input(spec.data().evalFile(), "eval data file"));
        }
        return OutputDirectory.create(spec.output(), dirs, files);
    }

    /**
     * The run's identity, checked by a resume: a hash of everything that changes what is trained. For an adapter it
     * includes the method's options as given and the adapter's whole saved config, so any option of any method that
     * changes the saved adapter changes the identity; progress, logging and checkpointing options are left out.
     */
    static String identity(Spec spec, Adapter adapter) {
        Map<String, Object> key = new LinkedHashMap<>();
        switch (spec.base()) {
            case Base.Pretrained p -> key.put("model", p.name());
            case Base.RandomInit r -> {
                key.put("init", "random");
                key.put("config", r.config().toString());
            }
        }
        DataConfig d = spec.data();
        key.put("data", d.trainFile().toString());
        key.put("eval_data", String.valueOf(d.evalFile()));
        key.put("eval_split", d.evalFraction());
        key.put("format", String.valueOf(d.format()));
        key.put("batch_size", d.batchSize());
        key.put("seq_len", d.seqLen());
        key.put("seed", d.seed());
        key.put("method", spec.method().name());
        switch (spec.method()) {
            case TrainingMethod.FineTuning f -> key.put("freeze_plan", f.plan().describe());
            case TrainingMethod.AdapterTraining a -> {
                key.put("method_options", new TreeMap<>(a.options().given()));
                Map<String, Object> config = new TreeMap<>(adapter.config(null));
                key.put("adapter_config", config);
            }
        }
        TrainOptions o = spec.options();
        key.put("lr", o.lr());
        key.put("steps", o.steps() == null ? 0 : o.steps());
        key.put("epochs", o.epochs());
        key.put("grad_accum", o.gradAccumSteps());
        key.put("warmup_steps", o.warmupSteps());
        key.put("schedule", o.schedule().key());
        key.put("weight_decay", o.weightDecay());
        key.put("max_grad_norm", o.maxGradNorm());
        key.put("optimizer", o.optimizer().key());
        String canonical = PythonJson.of(false, null, null, true).dumps(key);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256", e);
        }
    }

    /** The base, opened. */
    private record OpenBase(ModelConfig config, ObjectNode configJson, LlamaWeights weights, Tokenizer tokenizer,
                            ChatTemplate chatTemplate, Path tokenizerSource, DType dtype, String name,
                            LlamaModel model) {
        /** The fingerprint of a pretrained base (null for a random one, which has no files). */
        String fingerprint() {
            return model == null ? null : BaseFingerprint.compute(tokenizerSource);
        }
    }

    private static OpenBase open(Spec spec) throws IOException {
        return switch (spec.base()) {
            case Base.RandomInit r -> {
                ObjectNode json = (ObjectNode) JSON.readTree(r.config().toFile());
                ModelConfig config = ModelConfig.parse(r.config(), json);
                yield new OpenBase(config, json, RandomInit.weights(config, spec.data().seed()),
                        Tokenizers.load(r.tokenizerDir()), chatTemplate(r.tokenizerDir()), r.tokenizerDir(), DType.F32,
                        null, null);
            }
            case Base.Pretrained p -> {
                LlamaModel llama = LlamaModel.load(p.dir(), p.loading());
                ObjectNode json = ModelConfig.json(p.dir());
                DType stored = llama.weights().embed().dtype();
                yield new OpenBase(llama.config(), json, llama.weights(), Tokenizers.load(p.dir()), chatTemplate(p.dir()),
                        p.dir(), stored.isQuantized() ? DType.F32 : stored, p.name(), llama);
            }
        };
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
}
