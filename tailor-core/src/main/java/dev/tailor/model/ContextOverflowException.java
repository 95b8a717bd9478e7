package dev.tailor.model;

/** More positions were asked for than the model's context (or the KV cache) holds. */
public class ContextOverflowException extends RuntimeException {
    /** {@code needed} positions do not fit into {@code capacity}. */
    public ContextOverflowException(int needed, int capacity) {
        super("sequence of " + needed + " tokens is longer than the context of " + capacity + " positions");
    }
}
