package dev.tailor.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * Where training stands, as saved in {@code trainer_state.json}: enough, with the parameters and optimizer
 * state, to resume exactly.
 *
 * @param step         optimizer updates completed
 * @param epoch        passes over the training data completed (fractional, as Hugging Face reports it)
 * @param dataPosition where the data pipeline resumes; an opaque JSON object owned by the caller
 * @param scheduler    the learning-rate schedule, e.g. {@code LrSchedule.toJson()}; a JSON object
 * @param rngState     the random generator's seed or state
 * @param lossHistory  the training loss logged so far
 * @param configHash   hash of the training configuration, to refuse resuming a different run
 */
public record TrainerState(long step, double epoch, JsonNode dataPosition, JsonNode scheduler, long rngState,
                           List<LossPoint> lossHistory, String configHash) {

    /** Validates the fields and copies the history and JSON objects. */
    public TrainerState {
        if (step < 0) {
            throw new IllegalArgumentException("trainer state: step must be >= 0, got " + step);
        }
        if (dataPosition == null || !dataPosition.isObject()) {
            throw new IllegalArgumentException("trainer state: data position must be a JSON object");
        }
        if (scheduler == null || !scheduler.isObject()) {
            throw new IllegalArgumentException("trainer state: scheduler must be a JSON object");
        }
        if (configHash == null) {
            throw new IllegalArgumentException("trainer state: config hash is required");
        }
        dataPosition = dataPosition.deepCopy();
        scheduler = scheduler.deepCopy();
        lossHistory = List.copyOf(lossHistory);
    }

    /**
     * One logged training loss.
     *
     * @param step the update it was measured before
     * @param loss mean loss per token
     */
    public record LossPoint(long step, double loss) {
    }
}
