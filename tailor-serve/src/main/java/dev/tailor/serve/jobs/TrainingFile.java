package dev.tailor.serve.jobs;

import java.util.List;

/**
 * A JSON Lines file uploaded for fine-tuning, read and checked when it was uploaded.
 *
 * @param id        {@code file-} and 24 hex digits
 * @param owner     who uploaded it: {@code admin} or {@code tenant:NAME}
 * @param filename  the name it was uploaded under
 * @param purpose   {@code fine-tune}
 * @param bytes     its size
 * @param sha256    the hash of its bytes
 * @param format    the training format its lines have ({@code chat}, {@code classification} …)
 * @param examples  how many examples it holds
 * @param tokens    their tokens with the served base's tokenizer
 * @param labels    a classification file's labels, in order; empty for other formats
 * @param createdAt when it was uploaded, in seconds since the epoch
 */
public record TrainingFile(String id, String owner, String filename, String purpose, long bytes, String sha256,
                           String format, int examples, long tokens, List<String> labels, long createdAt) {
    /** Copies the labels. */
    public TrainingFile {
        labels = List.copyOf(labels);
    }
}
