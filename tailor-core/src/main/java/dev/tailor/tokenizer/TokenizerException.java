package dev.tailor.tokenizer;

/** A tokenizer file is malformed or asks for something Tailor does not support; the message names file and field. */
public class TokenizerException extends RuntimeException {
    /** An error with a message naming the file and field. */
    public TokenizerException(String message) {
        super(message);
    }

    /** An error with a message naming the file and field, caused by {@code cause}. */
    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
