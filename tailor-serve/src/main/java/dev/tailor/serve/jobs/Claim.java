package dev.tailor.serve.jobs;

/**
 * A worker's hold on a running job: valid while the worker renews its lease and nobody has claimed the job since (a
 * later claim has a higher {@code attempt}). Every change a worker makes to its job is made only while its claim holds.
 *
 * @param job     the job's id
 * @param worker  the worker's id
 * @param attempt how many times the job has been claimed, this claim included
 */
public record Claim(String job, String worker, int attempt) {
}
