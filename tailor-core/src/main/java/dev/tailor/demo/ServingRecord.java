package dev.tailor.demo;

import java.util.List;

/**
 * What the demo's server did: the clients' adapters served on the domain model, one request per client through the
 * OpenAI API, a canary of the first client's second adapter and a rollback.
 *
 * @param url      the server's address
 * @param base     the served base's id
 * @param replies  one chat completion per client
 * @param canary   the canary
 * @param rollback the promotion of the canary and its rollback
 * @param calls    every HTTP call made, in order
 * @param seconds  how long it took, start to stop
 */
public record ServingRecord(String url, String base, List<Reply> replies, Canary canary, Rollback rollback,
                            List<Call> calls, double seconds) {

    /** Copies the lists. */
    public ServingRecord {
        replies = List.copyOf(replies);
        calls = List.copyOf(calls);
    }

    /**
     * A client's chat completion.
     *
     * @param client   the model asked (the client's adapter)
     * @param question the user's message
     * @param answer   the assistant's reply
     * @param right    whether it states the client's fact
     */
    public record Reply(String client, String question, String answer, boolean right) {
    }

    /**
     * A canary: a share of a client's users sent to a new version by a traffic split.
     *
     * @param client       the client
     * @param stable       the version serving the rest ({@code prod})
     * @param candidate    the new version
     * @param weight       the new version's share of the traffic
     * @param users        how many users asked
     * @param toCandidate  how many of them the new version answered (told by its fact)
     * @param stableFact   what the stable version answers
     * @param candidateFact what the new version answers
     */
    public record Canary(String client, int stable, int candidate, double weight, int users, int toCandidate,
                         String stableFact, String candidateFact) {
    }

    /**
     * The canary promoted to {@code prod}, then rolled back.
     *
     * @param client         the client
     * @param promoted       the version promoted
     * @param promotedAnswer the answer while it served
     * @param restored       the version {@code prod} points at after the rollback
     * @param restoredAnswer the answer after the rollback
     */
    public record Rollback(String client, int promoted, String promotedAnswer, int restored, String restoredAnswer) {
    }

    /**
     * One HTTP call.
     *
     * @param method   GET, PUT, POST, DELETE
     * @param path     the path
     * @param body     the request body, or empty
     * @param status   the response status
     * @param response the response body, shortened
     */
    public record Call(String method, String path, String body, int status, String response) {
    }
}
