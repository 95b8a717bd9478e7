package dev.tailor.io;

/** A model or adapter file is malformed or does not hold what was expected; the message names file and tensor. */
public class TensorFormatException extends RuntimeException {
    public TensorFormatException(String message) {
        super(message);
    }

    public TensorFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
