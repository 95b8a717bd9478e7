package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bodies the files and fine-tuning endpoints answer, shaped as OpenAI's (the server writes record components in
 * snake case); Tailor's own fields ({@code format}, {@code examples} and {@code tokens} of a file, {@code adapter},
 * {@code training} and {@code rollout} of a job) come beside OpenAI's.
 */
final class ApiShapes {
    private ApiShapes() {
    }

    /** A file. */
    record FileObject(String id, String object, long bytes, long createdAt, String filename, String purpose,
                      String status, Object statusDetails, Long expiresAt, String format, int examples,
                      long tokens) {
        static FileObject of(TrainingFile f) {
            return new FileObject(f.id(), "file", f.bytes(), f.createdAt(), f.filename(), f.purpose(), "processed",
                    null, null, f.format(), f.examples(), f.tokens());
        }
    }

    /** What deleting a file answers. */
    record FileDeleted(String id, String object, boolean deleted) {
    }

    /** A page of a list. */
    record ListPage(String object, List<?> data, boolean hasMore, String firstId, String lastId) {
        static ListPage of(List<?> data, boolean hasMore, String firstId, String lastId) {
            return new ListPage("list", data, hasMore, firstId, lastId);
        }
    }

    /** A job's hyperparameters, resolved. */
    record Hyperparameters(int nEpochs, int batchSize, double learningRateMultiplier) {
    }

    /** {@code {"type": "supervised", "supervised": {"hyperparameters": …}}}. */
    record Method(String type, Supervised supervised) {
    }

    /** The supervised method's settings. */
    record Supervised(Hyperparameters hyperparameters) {
    }

    /** Tailor's training settings of a job. */
    record Training(int seqLen, int checkpointEvery, double learningRate) {
    }

    /** How a job's adapter is rolled out. */
    record Rollout(Double canary, boolean promote) {
    }

    /** A fine-tuning job. */
    record JobObject(String id, String object, String model, long createdAt, Long finishedAt, String fineTunedModel,
                     String organizationId, List<String> resultFiles, String status, String validationFile,
                     String trainingFile, Hyperparameters hyperparameters, Long trainedTokens, JobError error,
                     String userProvidedSuffix, long seed, Long estimatedFinish, List<Object> integrations,
                     Method method, Object metadata, Map<String, Object> adapter, Training training,
                     Rollout rollout, long estimatedTokens) {
        static JobObject of(Job j) {
            JobSettings s = j.settings();
            Hyperparameters h = new Hyperparameters(s.nEpochs(), s.batchSize(), s.learningRateMultiplier());
            Map<String, Object> adapter = new LinkedHashMap<>();
            adapter.put("method", s.method());
            s.options().forEach((name, texts) -> adapter.put(name, texts.size() == 1 ? texts.getFirst() : texts));
            return new JobObject(j.id(), "fine_tuning.job", j.model(), j.createdAt(), j.finishedAt(),
                    j.fineTunedModel(), j.owner(), List.of(), j.status().id(), j.validationFile(), j.trainingFile(), h,
                    j.trainedTokens(), j.error(), j.suffix(), j.seed(), null, List.of(),
                    new Method("supervised", new Supervised(h)), null, adapter,
                    new Training(s.seqLen(), s.checkpointEvery(), s.learningRate()),
                    new Rollout(s.canary(), s.promote()), j.estimatedTokens());
        }
    }

    /** A job's event. */
    record EventObject(String id, String object, long createdAt, String level, String message, JsonNode data,
                       String type) {
        static EventObject of(JobEvent e) {
            return new EventObject(EVENT + e.id(), "fine_tuning.job.event", e.createdAt(), e.level(), e.message(),
                    e.data(), e.type());
        }
    }

    /** A job's checkpoint. */
    record CheckpointObject(String id, String object, long createdAt, String fineTunedModelCheckpoint,
                            String fineTuningJobId, JsonNode metrics, long stepNumber) {
        static CheckpointObject of(JobCheckpoint c, String fineTunedModel) {
            return new CheckpointObject(CHECKPOINT + c.id(), "fine_tuning.job.checkpoint", c.createdAt(),
                    fineTunedModel, c.job(), c.metrics(), c.step());
        }
    }

    /** What an event's id starts with; its number follows. */
    static final String EVENT = "ftevent-";
    /** What a checkpoint's id starts with; its number follows. */
    static final String CHECKPOINT = "ftckpt-";
}
