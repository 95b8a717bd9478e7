package dev.tailor.serve;

import dev.tailor.generate.TokenLogprob;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Hands one generation's text from the batch thread, which must never wait on a client, to the request's own thread,
 * which writes it out. On the batch side it times the pieces for the metrics and stops the generation once past the
 * request's deadline (by throwing from the callback, which fails that request only).
 */
final class TokenRelay {
    /** Text as it was streamed, with the log-probabilities of the tokens generated since the previous piece. */
    record Piece(String text, List<TokenLogprob> logprobs) {
    }

    private static final Piece END = new Piece("", List.of());

    private final long arrival;
    private final long deadline;
    private final Duration timeout;
    private final ServerMetrics metrics;
    private final LinkedBlockingQueue<Piece> pieces = new LinkedBlockingQueue<>();
    /** Log-probabilities not yet handed over with a piece; touched by the batch thread until {@link #end()}. */
    private final List<TokenLogprob> pending = new ArrayList<>();
    private volatile boolean started;
    private long last;
    private boolean expired;

    TokenRelay(long arrival, long deadline, Duration timeout, ServerMetrics metrics) {
        this.arrival = arrival;
        this.deadline = deadline;
        this.timeout = timeout;
        this.metrics = metrics;
    }

    /** When the request arrived ({@link System#nanoTime()}). */
    long arrival() {
        return arrival;
    }

    /** When the request must be done ({@link System#nanoTime()}). */
    long deadline() {
        return deadline;
    }

    /** Batch thread: a token's log-probability, before the text it adds. */
    void logprob(TokenLogprob lp) {
        pending.add(lp);
    }

    /**
     * Batch thread: a piece of text.
     *
     * @throws ApiException 504 once past the deadline, which stops the generation
     */
    void piece(String text) {
        long now = System.nanoTime();
        if (now - deadline > 0) {
            throw timedOut();
        }
        if (!started) {
            started = true;
            metrics.firstToken(now - arrival);
        } else {
            metrics.interToken(now - last);
        }
        last = now;
        pieces.add(new Piece(text, List.copyOf(pending)));
        pending.clear();
    }

    /** Batch thread: the echoed prompt's text and its tokens' log-probabilities, before any generated piece. */
    void prompt(String text, List<TokenLogprob> logprobs) {
        pieces.add(new Piece(text, logprobs));
    }

    /** Whichever thread completes the generation: no more pieces come. */
    void end() {
        pieces.add(END);
    }

    /** Request thread: the next piece, or null at the end or once past the deadline ({@link #expired()}). */
    Piece next() {
        try {
            Piece p = pieces.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (p == null) {
                expired = true;
            }
            return p == END ? null : p;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            expired = true;
            return null;
        }
    }

    /** Whether {@link #next()} stopped at the deadline rather than at the end. */
    boolean expired() {
        return expired;
    }

    /** Request thread, after the end: the log-probabilities of tokens that added no text of their own. */
    Piece rest() {
        return new Piece("", List.copyOf(pending));
    }

    /** The 504 of this request: it waited for a place in the batch, or generated, past the deadline. */
    ApiException timedOut() {
        return started
                ? ApiException.timedOut("generated for " + (System.nanoTime() - arrival) / 1_000_000 + " ms", timeout)
                : ApiException.timedOut("waited for a generation", timeout);
    }
}
