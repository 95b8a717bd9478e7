package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A checkpoint a job's training saved: the point a worker taking the job over resumes from.
 *
 * @param id        its place among all checkpoints, increasing
 * @param job       the job's id
 * @param step      the update it was saved after
 * @param createdAt when, in seconds since the epoch
 * @param metrics   the step's metrics ({@code step}, {@code train_loss} and, when evaluated there,
 *                  {@code valid_loss})
 */
public record JobCheckpoint(long id, String job, long step, long createdAt, JsonNode metrics) {
}
