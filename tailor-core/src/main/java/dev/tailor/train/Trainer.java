package dev.tailor.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.train.checkpoint.CheckpointStore;
import dev.tailor.train.checkpoint.TrainerState;
import dev.tailor.train.data.Batch;
import dev.tailor.train.data.ClassificationScorer;
import dev.tailor.train.data.DataPosition;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.data.TrainingData;
import dev.tailor.train.nn.TrainableLlama;
import dev.tailor.train.optim.GradClip;
import dev.tailor.train.optim.LrSchedule;
import dev.tailor.train.optim.Optimizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The training loop: per update, {@code gradAccumSteps} micro-batches forward and backward (the loss is the mean
 * over every labelled token of the whole update), global-norm clipping, a scheduled optimizer step; metrics as JSON
 * Lines, periodic evaluation and atomic checkpoints from which {@link #run(boolean) run(true)} resumes exactly.
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainableLlama model;
    private final TrainingData data;
    private final TrainOptions options;
    private final Path outputDir;
    private final ClassificationScorer scorer;
    private final ProgressReporter progress;
    private final String configHash;
    private final TrainingListener listener;

    /**
     * A trainer writing {@code metrics.jsonl} and {@code training_state/} into {@code outputDir}.
     *
     * @param scorer     scores classification accuracy on the eval set, or null
     * @param configHash identifies the run's configuration; resuming a different one is refused
     */
    public Trainer(TrainableLlama model, TrainingData data, TrainOptions options, Path outputDir,
                   ClassificationScorer scorer, ProgressReporter progress, String configHash) {
        this(model, data, options, outputDir, scorer, progress, configHash, TrainingListener.NONE);
    }

    /**
     * As {@link #Trainer(TrainableLlama, TrainingData, TrainOptions, Path, ClassificationScorer, ProgressReporter,
     * String)}, telling {@code listener} of the resume, every metrics line and every checkpoint.
     */
    public Trainer(TrainableLlama model, TrainingData data, TrainOptions options, Path outputDir,
                   ClassificationScorer scorer, ProgressReporter progress, String configHash,
                   TrainingListener listener) {
        this.model = model;
        this.data = data;
        this.options = options;
        this.outputDir = outputDir;
        this.scorer = scorer;
        this.progress = progress;
        this.configHash = configHash;
        this.listener = listener;
        model.setGradientCheckpointing(options.gradientCheckpointing());
    }

    /**
     * What a run did.
     *
     * @param steps               updates done in total
     * @param trainLoss           loss of the last update
     * @param evalLoss            final eval loss (NaN without eval data)
     * @param evalAccuracy        final classification accuracy, or NaN
     * @param tokens              tokens processed by this process
     * @param seconds             wall time of this process's updates
     * @param peakRssMib          peak resident memory
     * @param resumedFrom         the step resumed from, or 0
     * @param trainableParameters the values trained (every trainable parameter's size)
     */
    public record Summary(long steps, double trainLoss, double evalLoss, double evalAccuracy, long tokens,
                          double seconds, double peakRssMib, long resumedFrom, long trainableParameters) {
        /** Tokens per second of training. */
        public double tokensPerSecond() {
            return seconds > 0 ? tokens / seconds : 0;
        }
    }

    /** Number of updates the run makes. */
    public int totalSteps() {
        if (options.steps() != null) {
            return options.steps();
        }
        double perEpoch = (double) data.train().batchesPerEpoch() / options.gradAccumSteps();
        return Math.max(1, (int) Math.ceil(options.epochs() * perEpoch));
    }

    /**
     * Trains; with {@code resume}, continues from the newest checkpoint in the output directory if there is one.
     *
     * @throws TrainingDivergedException when an update's loss or gradient norm, or the weights it makes, are not
     *                                   finite; the checkpoints saved before stay
     */
    public Summary run(boolean resume) {
        int total = totalSteps();
        LrSchedule schedule = schedule(total);
        Optimizer optimizer = optimizer();
        CheckpointStore store = new CheckpointStore(outputDir.resolve("training_state"), options.keepCheckpoints());
        MetricsLog metrics = new MetricsLog(outputDir.resolve("metrics.jsonl"));
        List<TrainerState.LossPoint> history = new ArrayList<>();
        long start = 0;
        Optional<Path> latest = resume ? CheckpointStore.latest(store.root()) : Optional.empty();
        if (latest.isPresent()) {
            // the identity first: another configuration's tensors may not even match this run's parameters
            if (!CheckpointStore.state(latest.get()).configHash().equals(configHash)) {
                throw new IllegalStateException(latest.get() + " was written by a run with another configuration "
                        + "(model, data or options differ); use a new output directory or do not resume");
            }
            TrainerState state = CheckpointStore.load(latest.get(), model.parameters(), optimizer);
            start = state.step();
            history.addAll(state.lossHistory());
            data.train().seek(JSON.convertValue(state.dataPosition(), DataPosition.class));
            metrics.truncateAfter(start);
            progress.message("resumed from " + latest.get().getFileName() + " at step " + start);
        } else {
            metrics.truncateAfter(0);
        }
        listener.started(start, total, latest.orElse(null));
        long tokens = 0;
        double seconds = 0;
        double lastLoss = Double.NaN;
        double evalLoss = Double.NaN;
        double evalAccuracy = Double.NaN;
        for (long step = start; step < total; step++) {
            long t0 = System.nanoTime();
            List<PackedSequence> update = new ArrayList<>();
            for (int micro = 0; micro < options.gradAccumSteps(); micro++) {
                Batch batch = data.train().next();
                update.addAll(batch.sequences());
            }
            long counted = 0;
            for (PackedSequence s : update) {
                counted += model.countedLabels(s);
            }
            for (var p : model.parameters()) {
                p.zeroGrad();
            }
            CausalLmLoss.Total loss = new CausalLmLoss.Total(0, 0);
            for (int i = 0; i < update.size(); i++) {
                PackedSequence s = update.get(i);
                loss = loss.plus(model.forwardBackward(s, counted == 0 ? 0f : 1f / counted, dropoutGeneration(step, i)));
                tokens += s.length();
            }
            double norm = options.maxGradNorm() > 0
                    ? GradClip.clipGlobalNorm(model.parameters(), options.maxGradNorm())
                    : Math.sqrt(GradClip.sumOfSquares(model.parameters()));
            if ((counted > 0 && !Double.isFinite(loss.mean())) || !Double.isFinite(norm)) {
                throw diverged(step + 1, String.format("the loss is %s and the gradient norm %s", loss.mean(), norm),
                        store);
            }
            double lr = schedule.lr((int) step);
            optimizer.step(model.parameters(), lr);
            double dt = (System.nanoTime() - t0) / 1e9;
            seconds += dt;
            lastLoss = loss.mean();
            long done = step + 1;
            history.add(new TrainerState.LossPoint(done, lastLoss));
            int updateTokens = update.size() * update.getFirst().length();
            if (done % options.logEvery() == 0 || done == total) {
                ObjectNode line = JSON.createObjectNode().put("step", done).put("loss", lastLoss).put("lr", lr)
                        .put("grad_norm", norm).put("tokens", updateTokens).put("tokens_per_s", updateTokens / dt)
                        .put("epoch", epoch()).put("rss_mib", ProcessStats.rssMib());
                metrics.append(line);
                listener.metrics(line.deepCopy());
            }
            progress.step(done, total, lastLoss, updateTokens / dt, ProcessStats.rssMib());
            boolean last = done == total;
            if (!data.eval().isEmpty() && ((options.evalEvery() > 0 && done % options.evalEvery() == 0) || last)) {
                evalLoss = evalLoss();
                ObjectNode line = JSON.createObjectNode().put("step", done).put("eval_loss", evalLoss);
                if (scorer != null) {
                    evalAccuracy = accuracy();
                    line.put("eval_accuracy", evalAccuracy);
                }
                metrics.append(line);
                listener.metrics(line.deepCopy());
                progress.message(String.format("step %d: eval loss %.4f%s", done, evalLoss,
                        scorer != null ? String.format(", accuracy %.3f", evalAccuracy) : ""));
            }
            if ((options.saveEvery() > 0 && done % options.saveEvery() == 0) || last) {
                String bad = firstNonFinite();
                if (bad != null) {
                    throw diverged(done, "the update made " + bad + " non-finite", store);
                }
                TrainerState state = new TrainerState(done, epoch(), JSON.valueToTree(data.train().position()),
                        schedule.toJson(), 0L, history, configHash);
                listener.checkpointSaved(done, store.save(model.parameters(), optimizer.state(), state));
            }
        }
        progress.finish();
        long trainable = model.parameters().stream().mapToLong(p -> p.size()).sum();
        return new Summary(total, lastLoss, evalLoss, evalAccuracy, tokens, seconds, ProcessStats.peakRssMib(), start,
                trainable);
    }

    /**
     * The error that stops a run at update {@code step} because {@code what} is not finite, naming the last
     * checkpoint (the last one saved, whose weights were finite); the progress line is ended first.
     */
    private TrainingDivergedException diverged(long step, String what, CheckpointStore store) {
        progress.finish();
        Optional<Path> lastGood = CheckpointStore.latest(store.root());
        return new TrainingDivergedException(step, "training stopped at step " + step + ": " + what
                + " (a learning rate or scale too large?); nothing of it was saved; "
                + lastGood.map(c -> "the last checkpoint, whose weights are finite, is " + c)
                        .orElse("no checkpoint had been saved yet"));
    }

    /** The name of the first trainable parameter holding a NaN or infinity, or null when all are finite. */
    private String firstNonFinite() {
        for (var p : model.parameters()) {
            for (float v : p.data()) {
                if (!Float.isFinite(v)) {
                    return p.name();
                }
            }
        }
        return null;
    }

    private double epoch() {
        DataPosition p = data.train().position();
        return p.epoch() + (double) p.batch() / data.train().batchesPerEpoch();
    }

    /** Mean loss over the eval set's labelled tokens. */
    public double evalLoss() {
        CausalLmLoss.Total total = new CausalLmLoss.Total(0, 0);
        for (Batch b : data.eval()) {
            for (PackedSequence s : b.sequences()) {
                total = total.plus(model.loss(s));
            }
        }
        return total.mean();
    }

    /**
     * Classification accuracy on the eval examples, scoring each label's likelihood with the current weights
     * (adapters included): the summed log-probability of the label's tokens after the prompt. A prompt that leaves the
     * label no room in the sequences the model trains on keeps its last tokens (the end of the text and the label's
     * cue), as a longer one would not fit the model's positions.
     */
    public double accuracy() {
        int limit = data.evalPacking().sequences().getFirst().length();
        return scorer.accuracy(data.split().eval(), (whole, completion) -> {
            int room = Math.max(0, limit - completion.length);
            int[] prompt = whole.length > room ? java.util.Arrays.copyOfRange(whole, whole.length - room, whole.length)
                    : whole;
            int n = prompt.length + completion.length;
            int[] tokens = java.util.Arrays.copyOf(prompt, n);
            System.arraycopy(completion, 0, tokens, prompt.length, completion.length);
            int[] labels = new int[n];
            java.util.Arrays.fill(labels, 0, prompt.length, CausalLmLoss.IGNORE_INDEX);
            System.arraycopy(completion, 0, labels, prompt.length, completion.length);
            int[] positions = new int[n];
            for (int t = 0; t < n; t++) {
                positions[t] = t;
            }
            return -model.loss(new PackedSequence(tokens, labels, positions, new int[n])).nllSum();
        }).fraction();
    }

    /** The training pass of sequence {@code index} of update {@code step}: distinct for every sequence of a run. */
    static long dropoutGeneration(long step, int index) {
        return (step << 24) + index;
    }

    private LrSchedule schedule(int total) {
        return options.schedule().create(options.lr(), Math.min(options.warmupSteps(), total), total);
    }

    private Optimizer optimizer() {
        return options.optimizer().create(options.weightDecay());
    }
}
