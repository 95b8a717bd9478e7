package dev.tailor.serve.jobs;

import java.util.Locale;

/** Where a fine-tuning job is, spelled as OpenAI's statuses. */
public enum JobStatus {
    /** Created; its files are being checked. */
    VALIDATING_FILES,
    /** Waiting for a worker. */
    QUEUED,
    /** A worker trains it, or is about to take it over from one that stopped renewing its lease. */
    RUNNING,
    /** Trained, registered, evaluated and rolled out as asked. */
    SUCCEEDED,
    /** Stopped by an error, which the job names. */
    FAILED,
    /** Cancelled by its owner. */
    CANCELLED;

    /** The status as the API and the database spell it ({@code validating_files} …). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the job may still run: validating its files, queued or running. */
    public boolean active() {
        return this == VALIDATING_FILES || this == QUEUED || this == RUNNING;
    }

    /**
     * The status spelled {@code id}.
     *
     * @throws IllegalArgumentException for another spelling
     */
    public static JobStatus of(String id) {
        return valueOf(id.toUpperCase(Locale.ROOT));
    }

    /** The active statuses as a SQL list: {@code ('validating_files', 'queued', 'running')}. */
    static String activeSql() {
        return "('validating_files', 'queued', 'running')";
    }
}
