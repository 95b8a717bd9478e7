package dev.tailor.serve;

/**
 * What one request's access-log line and metrics learn while it is handled: when it arrived, the model it resolved
 * and its token counts. The server's filter binds one to {@link #CURRENT} around each request; the handlers fill it in.
 */
final class AccessRecord {
    /** The record of the request the current thread handles. */
    static final ScopedValue<AccessRecord> CURRENT = ScopedValue.newInstance();
    /** The model label of a request that resolved none. */
    static final String NO_MODEL = "none";

    private final long arrival;
    private String model = NO_MODEL;
    private int promptTokens;
    private int completionTokens;

    /** A record of a request that arrived at {@code arrival} ({@link System#nanoTime()}). */
    AccessRecord(long arrival) {
        this.arrival = arrival;
    }

    /** The record of the request being handled. */
    static AccessRecord current() {
        return CURRENT.get();
    }

    /** Notes the model the request resolved. */
    void model(String id) {
        this.model = id;
    }

    /** Notes the tokens read and generated. */
    void tokens(int prompt, int completion) {
        this.promptTokens = prompt;
        this.completionTokens = completion;
    }

    long arrival() {
        return arrival;
    }

    String model() {
        return model;
    }

    int promptTokens() {
        return promptTokens;
    }

    int completionTokens() {
        return completionTokens;
    }
}
