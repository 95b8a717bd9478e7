package dev.tailor.train;

/**
 * Training stopped because an update's loss or gradient norm, or the weights after it, stopped being finite (NaN or
 * infinite): typically a learning rate or scale far too large. Nothing of that update is saved; the message names
 * the step and the last checkpoint, which holds the last good weights.
 */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;

    /**
     * @param step    the update (1-based) at which training stopped
     * @param message what was not finite, naming the step and the last good checkpoint
     */
    public TrainingDivergedException(long step, String message) {
        super(message);
        this.step = step;
    }

    /** The update (1-based) at which training stopped. */
    public long step() {
        return step;
    }
}
