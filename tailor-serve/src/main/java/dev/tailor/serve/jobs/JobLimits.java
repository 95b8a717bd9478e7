package dev.tailor.serve.jobs;

import dev.tailor.adapt.InvalidOptionException;

/**
 * What each tenant may use of fine-tuning (the admin is not limited).
 *
 * @param maxFileBytes      the largest file it may upload
 * @param maxConcurrentJobs the most jobs it may have validating, queued or running at once
 * @param maxTrainingTokens the most tokens all its jobs together may train: finished jobs count the tokens they
 *                          trained, active ones the tokens they are expected to train
 */
public record JobLimits(long maxFileBytes, int maxConcurrentJobs, long maxTrainingTokens) {
    /**
     * Checks the ranges.
     *
     * @throws InvalidOptionException naming the limit below 1
     */
    public JobLimits {
        if (maxFileBytes < 1) {
            throw new InvalidOptionException("max_file_bytes", "max_file_bytes must be >= 1, got " + maxFileBytes);
        }
        if (maxConcurrentJobs < 1) {
            throw new InvalidOptionException("max_concurrent_jobs", "max_concurrent_jobs must be >= 1, got "
                    + maxConcurrentJobs);
        }
        if (maxTrainingTokens < 1) {
            throw new InvalidOptionException("max_training_tokens", "max_training_tokens must be >= 1, got "
                    + maxTrainingTokens);
        }
    }

    /** 100 MiB files, 2 jobs at once, 100 million training tokens. */
    public static JobLimits defaults() {
        return new JobLimits(100L << 20, 2, 100_000_000L);
    }
}
