package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.model.LoadOptions;
import dev.tailor.serve.ApiException;
import dev.tailor.train.TrainOptions;
import dev.tailor.train.TrainingDivergedException;
import dev.tailor.train.TrainingListener;
import dev.tailor.train.TrainingMethod;
import dev.tailor.train.TrainingRun;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.optim.OptimizerType;
import dev.tailor.train.optim.ScheduleType;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * One worker's run of one claimed job: trains it ({@link TrainingRun}, in {@code jobs/<id>/run/} of the shared state
 * directory, resuming from the newest checkpoint there, which is exact), tells its steps, evaluations and checkpoints
 * as events as they happen, then ships the adapter ({@link Release}) and ends the job. It stops at the next step when
 * its claim no longer holds (the job was cancelled, or its lease ran out and another worker took it) and when the
 * worker is stopping (then it ends its lease, so another worker takes the job over at once).
 */
final class JobRun {
    private static final Logger LOG = Logger.getLogger(JobRun.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Why a run stopped before the end. */
    private static final class Stop extends RuntimeException {
        final boolean lost;

        Stop(boolean lost) {
            super(lost ? "the claim no longer holds" : "the worker is stopping", null, false, false);
            this.lost = lost;
        }
    }

    private final JobStore store;
    private final Release release;
    private final Path state;
    private final Path modelDir;
    private final LoadOptions loading;
    private final Claim claim;
    private final Job job;
    private final BooleanSupplier lost;
    private final BooleanSupplier stopping;

    /**
     * @param loading  how the base's weights are loaded for training (as the served base's: quantized or not)
     * @param lost     whether the claim is known to hold no more (the heartbeat's finding)
     * @param stopping whether the worker is stopping
     */
    JobRun(JobStore store, Release release, Path state, Path modelDir, LoadOptions loading, Claim claim, Job job, BooleanSupplier lost,
           BooleanSupplier stopping) {
        this.store = store;
        this.release = release;
        this.state = state;
        this.modelDir = modelDir;
        this.loading = loading;
        this.claim = claim;
        this.job = job;
        this.lost = lost;
        this.stopping = stopping;
    }

    /** Where a job's training writes: its checkpoints, metrics and adapter. */
    static Path dir(Path state, String job) {
        return state.resolve("jobs").resolve(job);
    }

    /** Runs the job to its end, or until it stops as the class comment says. */
    void run() {
        Path dir = dir(state, job.id());
        try {
            event("started:" + claim.attempt(), claim.attempt() == 1 ? "Fine-tuning job started on worker "
                    + claim.worker() : "Worker " + claim.worker() + " took the job over (attempt " + claim.attempt()
                    + ")", null);
            train(dir);
            check();
            String model = release.ship(job, claim, adapter(dir));
            if (store.finish(claim, JobStatus.SUCCEEDED, model, store.trainedTokens(job.id()), null,
                    "The job has successfully completed: " + model)) {
                LOG.info(() -> "fine-tuning job " + job.id() + " succeeded: " + model);
                delete(dir);
            }
        } catch (Stop e) {
            if (!e.lost) {
                store.release(claim);
                LOG.info(() -> "left fine-tuning job " + job.id() + " for another worker");
            } else if (store.job(job.id()).status() == JobStatus.CANCELLED) {
                LOG.info(() -> "fine-tuning job " + job.id() + " was cancelled");
                delete(dir);
            } else {
                LOG.warning("fine-tuning job " + job.id() + " was taken over by another worker");
            }
        } catch (RuntimeException e) {
            fail(e, dir);
        } catch (IOException e) {
            fail(new UncheckedIOException(e), dir);
        }
    }

    private void fail(RuntimeException e, Path dir) {
        String message = String.valueOf(e.getMessage()).replace(state.toString() + "/", "");
        String code = e instanceof TrainingDivergedException ? "training_diverged"
                : e instanceof ApiException ? "registration_failed" : "training_failed";
        LOG.log(Level.WARNING, "fine-tuning job " + job.id() + " failed", e);
        if (store.finish(claim, JobStatus.FAILED, null, store.trainedTokens(job.id()),
                new JobError(code, message, null), "Fine-tuning job failed: " + message)) {
            delete(dir);
        }
    }

    /** Stops the run when the claim is gone or the worker is stopping. */
    private void check() {
        if (lost.getAsBoolean() || !store.holds(claim)) {
            throw new Stop(true);
        }
        if (stopping.getAsBoolean()) {
            throw new Stop(false);
        }
    }

    private void train(Path dir) throws IOException {
        JobSettings s = job.settings();
        Path training = FileStore.path(state, job.trainingFile());
        Path validation = job.validationFile() == null ? null : FileStore.path(state, job.validationFile());
        TrainingRun.Spec spec = new TrainingRun.Spec(new TrainingRun.Base.Pretrained(modelDir, job.model(), loading),
                new DataConfig(training, validation, null, 0, s.seqLen(), s.batchSize(), job.seed(), true, false),
                TrainingMethod.of(s.method(), null, s.options()),
                new TrainOptions(null, s.nEpochs(), 1, s.learningRate(), 0, ScheduleType.LINEAR, 0, 1.0,
                        OptimizerType.ADAMW, validation == null ? 0 : s.checkpointEvery(), s.checkpointEvery(), 2, 1,
                        false),
                dir.resolve("run"), null, true);
        Files.createDirectories(dir);
        try (PrintWriter log = new PrintWriter(Files.newBufferedWriter(dir.resolve("train.log"),
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND), true)) {
            TrainingRun.run(spec, log, false, new Events());
        }
    }

    /**
     * The adapter the run saved, alone in {@code dir/adapter/}: the run's files but its metrics and checkpoints, which
     * are not the adapter's (nor the same from one run to the next).
     */
    private static Path adapter(Path dir) throws IOException {
        Path adapter = dir.resolve("adapter");
        delete(adapter);
        Files.createDirectories(adapter);
        try (Stream<Path> files = Files.list(dir.resolve("run"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (!f.getFileName().toString().equals("metrics.jsonl")) {
                    Files.copy(f, adapter.resolve(f.getFileName()));
                }
            }
        }
        return adapter;
    }

    /** Turns the trainer's metrics and checkpoints into the job's events and checkpoints. */
    private final class Events implements TrainingListener {
        private long total;
        private ObjectNode lastStep;
        private ObjectNode lastEval;

        @Override
        public void started(long step, long totalSteps, Path checkpoint) {
            total = totalSteps;
            check();
            if (checkpoint != null) {
                event("resumed:" + claim.attempt(), "Resumed from the checkpoint of step " + step + " of "
                        + totalSteps, JSON.createObjectNode().put("step", step).put("total_steps", totalSteps));
            }
        }

        @Override
        public void metrics(ObjectNode line) {
            long step = line.path("step").asLong();
            if (line.has("loss")) {
                lastStep = JSON.createObjectNode().put("step", step).put("total_steps", total)
                        .put("train_loss", line.get("loss").asDouble())
                        .put("learning_rate", line.get("lr").asDouble())
                        .put("grad_norm", line.get("grad_norm").asDouble())
                        .put("tokens", line.get("tokens").asLong())
                        .put("tokens_per_second", line.get("tokens_per_s").asDouble())
                        .put("epoch", line.get("epoch").asDouble());
                store.event(claim, job.id(), "step:" + step, "info", "metrics", String.format(
                        "Step %d/%d: training loss=%.4f", step, total, line.get("loss").asDouble()), lastStep);
            } else if (line.has("eval_loss")) {
                lastEval = JSON.createObjectNode().put("step", step).put("total_steps", total)
                        .put("valid_loss", line.get("eval_loss").asDouble());
                if (line.has("eval_accuracy")) {
                    lastEval.put("valid_accuracy", line.get("eval_accuracy").asDouble());
                }
                store.event(claim, job.id(), "eval:" + step, "info", "metrics", String.format(
                        "Step %d/%d: validation loss=%.4f", step, total, line.get("eval_loss").asDouble()), lastEval);
            }
            check();
        }

        @Override
        public void checkpointSaved(long step, Path checkpoint) {
            ObjectNode metrics = JSON.createObjectNode().put("step", step);
            if (lastStep != null && lastStep.get("step").asLong() == step) {
                metrics.put("train_loss", lastStep.get("train_loss").asDouble());
            }
            if (lastEval != null && lastEval.get("step").asLong() == step) {
                metrics.setAll(lastEval);
            }
            store.checkpoint(claim, step, metrics);
            check();
        }
    }

    private void event(String key, String message, ObjectNode data) {
        store.event(claim, job.id(), key, "info", "message", message, data);
    }

    private static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.log(Level.WARNING, "cannot delete " + dir, e);
        }
    }
}
