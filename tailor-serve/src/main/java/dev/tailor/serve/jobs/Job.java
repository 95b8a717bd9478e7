package dev.tailor.serve.jobs;

/**
 * A fine-tuning job as the database holds it.
 *
 * @param id              {@code ftjob-} and 24 hex digits
 * @param owner           who created it: {@code admin} or {@code tenant:NAME}
 * @param model           the served base's id it fine-tunes
 * @param baseFingerprint the base's fingerprint: only a worker on that very base takes the job
 * @param trainingFile    the training file's id
 * @param validationFile  the validation file's id, or null
 * @param suffix          the adapter name it registers a version of
 * @param seed            seeds the data order and the adapter's initialisation
 * @param settings        what it trains and how it is rolled out
 * @param status          where it is
 * @param createdAt       when it was created, in seconds since the epoch
 * @param startedAt       when a worker first took it, or null
 * @param finishedAt      when it succeeded, failed or was cancelled, or null
 * @param estimatedTokens the tokens it is expected to train (the training file's, times the epochs), held against
 *                        its owner's budget while it runs
 * @param trainedTokens   the tokens it trained, once finished
 * @param fineTunedModel  the registered version ({@code suffix@n}), once succeeded
 * @param error           why it failed, or null
 * @param worker          the worker that last took it, or null
 * @param attempt         how many times a worker took it
 */
public record Job(String id, String owner, String model, String baseFingerprint, String trainingFile,
                  String validationFile, String suffix, long seed, JobSettings settings, JobStatus status,
                  long createdAt, Long startedAt, Long finishedAt, long estimatedTokens, Long trainedTokens,
                  String fineTunedModel, JobError error, String worker, int attempt) {
}
