package dev.tailor.train.checkpoint;

/** A checkpoint cannot be written or read; the message names the file (and tensor or field) and what is wrong. */
public class CheckpointException extends RuntimeException {
    /** An error with its message. */
    public CheckpointException(String message) {
        super(message);
    }

    /** An error with its message and cause. */
    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
