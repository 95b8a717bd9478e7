package dev.tailor.serve;

/**
 * One evaluation of a registered version, stored with it ({@code POST /v1/adapters/{name}/versions/{v}/evaluate}).
 *
 * @param version     the version evaluated
 * @param data        the JSON Lines file, as the caller named it
 * @param dataSha256  the hash of the file's bytes: evaluations compare only on the same data
 * @param maxExamples the first lines evaluated, or null for all
 * @param format      the data format ({@code text}, {@code chat}, {@code classification} …)
 * @param loss        mean negative log-likelihood per counted token, or null when not finite
 * @param perplexity  exp(loss), or null when not finite
 * @param accuracy    classification accuracy, or null for other formats
 * @param tokens      counted tokens
 * @param sequences   lines evaluated
 * @param seconds     how long it took
 * @param evaluated   when, in seconds since the epoch
 */
public record Evaluation(int version, String data, String dataSha256, Integer maxExamples, String format,
                         Double loss, Double perplexity, Double accuracy, long tokens, int sequences, double seconds,
                         long evaluated) {

    /** Whether {@code other} was made on the same data (same file contents, same line limit). */
    boolean sameData(Evaluation other) {
        return dataSha256.equals(other.dataSha256) && java.util.Objects.equals(maxExamples, other.maxExamples);
    }
}
