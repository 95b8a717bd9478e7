package dev.tailor.train;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;

/**
 * What a training run tells as it goes, on the training thread, between updates: where it starts, its metrics as they
 * are logged and its checkpoints as they are saved. An exception thrown by a method here stops the run there (it leaves
 * {@link Trainer#run} and {@link TrainingRun#run}); the checkpoints saved before stay, so a later run resumes from
 * them.
 */
public interface TrainingListener {
    /** A listener that does nothing. */
    TrainingListener NONE = new TrainingListener() {
    };

    /**
     * The run starts after update {@code step} of {@code totalSteps}: 0 for a fresh run, else the update of
     * {@code checkpoint}, the one it resumed from (null for a fresh run); metrics and checkpoints of later updates
     * follow.
     */
    default void started(long step, long totalSteps, Path checkpoint) {
    }

    /**
     * A line was written to {@code metrics.jsonl}: an update's ({@code step}, {@code loss}, {@code lr},
     * {@code grad_norm}, {@code tokens}, {@code tokens_per_s}, {@code epoch}, {@code rss_mib}) or an evaluation's
     * ({@code step}, {@code eval_loss}, and {@code eval_accuracy} for classification). The line is the listener's to
     * keep.
     */
    default void metrics(ObjectNode line) {
    }

    /** The checkpoint of update {@code step} is complete in {@code dir}. */
    default void checkpointSaved(long step, Path dir) {
    }
}
