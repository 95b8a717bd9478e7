package dev.tailor.tokenizer;

/**
 * A chat template could not be loaded or rendered: the tokenizer config has none, the template does not parse,
 * or the template itself rejected the conversation through {@code raise_exception(message)}.
 */
public final class ChatTemplateException extends RuntimeException {

    /** An error with a message naming the file or template and what went wrong. */
    public ChatTemplateException(String message) {
        super(message);
    }

    /** An error caused by another exception. */
    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
