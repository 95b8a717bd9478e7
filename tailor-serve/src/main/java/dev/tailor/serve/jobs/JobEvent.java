package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Something that happened to a job: a message, or a training step's metrics.
 *
 * @param id        its place among all events, increasing
 * @param job       the job's id
 * @param createdAt when, in seconds since the epoch
 * @param level     {@code info}, {@code warn} or {@code error}
 * @param type      {@code message} or {@code metrics}
 * @param message   for people
 * @param data      the metrics ({@code step}, {@code train_loss}, {@code learning_rate}, {@code tokens_per_second},
 *                  {@code valid_loss} …) or other details; null for none
 */
public record JobEvent(long id, String job, long createdAt, String level, String type, String message,
                       JsonNode data) {
}
