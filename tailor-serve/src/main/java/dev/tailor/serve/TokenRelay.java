package dev.tailor.serve;

import dev.tailor.generate.TokenLogprob;

import java.util.ArrayList;
import java.util.List;

/**
 * Hands one generation's text (one choice of a request) from the batch thread, which must never wait on a client, to
 * the request's own thread, which writes it out: into the request's {@link Pieces}, which all its choices share. On
 * the batch side it times the pieces for the metrics and stops the generation once past the request's deadline (by
 * throwing from the callback, which fails that generation only).
 */
final class TokenRelay {
    /**
     * Text as it was streamed for choice {@code index}, with the log-probabilities of the tokens generated since the
     * previous piece; {@code end} marks the choice's last (no text).
     */
    record Piece(int index, String text, List<TokenLogprob> logprobs, boolean end) {
    }

    private final int index;
    private final Pieces sink;
    private final ServerMetrics metrics;
    /** Log-probabilities not yet handed over with a piece; touched by the batch thread until {@link #end()}. */
    private final List<TokenLogprob> pending = new ArrayList<>();
    private volatile boolean started;
    private long last;

    TokenRelay(int index, Pieces sink, ServerMetrics metrics) {
        this.index = index;
        this.sink = sink;
        this.metrics = metrics;
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
        if (now - sink.deadline() > 0) {
            throw timedOut();
        }
        if (!started) {
            started = true;
            metrics.firstToken(now - sink.arrival());
        } else {
            metrics.interToken(now - last);
        }
        last = now;
        sink.add(new Piece(index, text, List.copyOf(pending), false));
        pending.clear();
    }

    /** Batch thread: the echoed prompt's text and its tokens' log-probabilities, before any generated piece. */
    void prompt(String text, List<TokenLogprob> logprobs) {
        sink.add(new Piece(index, text, logprobs, false));
    }

    /** Whichever thread completes the generation: no more pieces come from it. */
    void end() {
        sink.add(new Piece(index, "", List.of(), true));
    }

    /** Request thread, after the end: the log-probabilities of tokens that added no text of their own. */
    Piece rest() {
        return new Piece(index, "", List.copyOf(pending), false);
    }

    /** The 504 of this generation: it waited for a place in the batch, or generated, past the deadline. */
    ApiException timedOut() {
        return started ? sink.timedOut("generated for " + (System.nanoTime() - sink.arrival()) / 1_000_000 + " ms")
                : sink.timedOut("waited for a generation");
    }
}
