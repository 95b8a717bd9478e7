package dev.tailor.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.train.Trainer;
import dev.tailor.train.TrainOptions;
import dev.tailor.train.TrainingMethod;
import dev.tailor.train.TrainingRun;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.DatasetFormat;
import dev.tailor.train.optim.OptimizerType;
import dev.tailor.train.optim.ScheduleType;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One of the demo's training runs through {@link TrainingRun}, its log in {@code logs/STEP.log} under the output and
 * its numbers in {@value #SUMMARY} in its directory (so a reused step still reports them). The training state is
 * removed once the run has saved its model or adapter: a finished step is never resumed.
 */
final class DemoTraining {
    /** The file in a trained step's directory holding its numbers. */
    static final String SUMMARY = "demo-training.json";

    private final DemoSettings settings;
    private final Path logs;

    DemoTraining(DemoSettings settings, Path logs) {
        this.settings = settings;
        this.logs = logs;
    }

    /**
     * What one run trains.
     *
     * @param base   the base
     * @param train  the training data
     * @param eval   held-out data for the eval loss, or null
     * @param format the data's format
     * @param method what trains
     * @param steps  updates
     * @param batch  sequences per update
     * @param lr     peak learning rate
     */
    record Job(TrainingRun.Base base, Path train, Path eval, DatasetFormat format, TrainingMethod method, int steps,
               int batch, double lr) {
    }

    /**
     * A run's numbers.
     *
     * @param steps     updates
     * @param trainLoss the last update's loss
     * @param evalLoss  the held-out loss at the end, or NaN
     * @param tokensPerSecond training throughput
     */
    record Numbers(long steps, double trainLoss, double evalLoss, double tokensPerSecond) {
    }

    /**
     * Runs {@code job} into {@code dir}, continuing a stopped run there when {@code resume}, its log in
     * {@code logs/STEP.log}.
     */
    void run(String step, Job job, Path dir, boolean resume) throws IOException {
        Files.createDirectories(logs);
        Path logFile = logs.resolve(step.replace('/', '-') + ".log");
        DataConfig data = new DataConfig(job.train().toAbsolutePath(), job.eval() == null ? null
                : job.eval().toAbsolutePath(), job.format(), 0, settings.seqLen(), job.batch(),
                settings.seed(), true, false);
        TrainOptions options = new TrainOptions(job.steps(), 1, 1, job.lr(), Math.max(1, job.steps() / 10),
                ScheduleType.COSINE, 0.0, 1.0, OptimizerType.ADAMW, 0, Math.max(50, job.steps() / 4), 1, 10, false);
        Trainer.Summary s;
        try (OutputStream stream = Files.newOutputStream(logFile, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
             PrintWriter log = new PrintWriter(new java.io.OutputStreamWriter(stream, StandardCharsets.UTF_8), true)) {
            s = TrainingRun.run(new TrainingRun.Spec(job.base(), data, job.method(), options, dir.toAbsolutePath(),
                    null, resume), log, false);
        }
        DemoFiles.deleteTree(dir.resolve("training_state"));
        ObjectNode numbers = DemoFiles.JSON.createObjectNode();
        numbers.put("steps", s.steps());
        numbers.put("train_loss", s.trainLoss());
        if (Double.isNaN(s.evalLoss())) {
            numbers.putNull("eval_loss");
        } else {
            numbers.put("eval_loss", s.evalLoss());
        }
        numbers.put("tokens_per_second", Math.round(s.tokensPerSecond()));
        DemoFiles.writeJson(dir.resolve(SUMMARY), numbers);
    }

    /** The numbers a trained step recorded. */
    static Numbers numbers(Path dir) throws IOException {
        JsonNode n = DemoFiles.JSON.readTree(dir.resolve(SUMMARY).toFile());
        return new Numbers(n.path("steps").asLong(), n.path("train_loss").asDouble(Double.NaN),
                n.path("eval_loss").asDouble(Double.NaN), n.path("tokens_per_second").asDouble());
    }
}
