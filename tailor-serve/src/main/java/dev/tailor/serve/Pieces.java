package dev.tailor.serve;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The streamed pieces of one request's choices, in the order the batch thread produced them, for the request's own
 * thread to write out until every choice has ended or the request's deadline has passed.
 */
final class Pieces {
    private final long arrival;
    private final long deadline;
    private final Duration timeout;
    private final LinkedBlockingQueue<TokenRelay.Piece> queue = new LinkedBlockingQueue<>();

    /** Pieces of a request that arrived at {@code arrival} ({@link System#nanoTime()}) and may take {@code timeout}. */
    Pieces(long arrival, Duration timeout) {
        this.arrival = arrival;
        this.deadline = arrival + timeout.toNanos();
        this.timeout = timeout;
    }

    /** When the request arrived ({@link System#nanoTime()}). */
    long arrival() {
        return arrival;
    }

    /** When the request must be done ({@link System#nanoTime()}). */
    long deadline() {
        return deadline;
    }

    /** Batch thread (or whichever completes a generation): one more piece. */
    void add(TokenRelay.Piece piece) {
        queue.add(piece);
    }

    /** Request thread: the next piece, or null once past the deadline (or when interrupted). */
    TokenRelay.Piece next() {
        try {
            return queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The request's 504: {@code what} happened past the deadline. */
    ApiException timedOut(String what) {
        return ApiException.timedOut(what, timeout);
    }
}
