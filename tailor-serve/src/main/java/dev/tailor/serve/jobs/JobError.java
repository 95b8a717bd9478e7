package dev.tailor.serve.jobs;

/**
 * Why a job failed, as OpenAI's job object shows it.
 *
 * @param code    a short machine-readable code ({@code invalid_training_file}, {@code training_failed} …)
 * @param message what went wrong, naming the file, line or option at fault
 * @param param   the request field at fault, or null
 */
public record JobError(String code, String message, String param) {
}
