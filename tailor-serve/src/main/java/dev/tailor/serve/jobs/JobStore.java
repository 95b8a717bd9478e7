package dev.tailor.serve.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.serve.ApiException;
import dev.tailor.serve.Database;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Fine-tuning's files, jobs, events and checkpoints in the registry's database (the tables of
 * {@code V7__fine_tuning.sql}), shared by the servers that take jobs and the workers that run them.
 *
 * <p>A worker {@link #claim claims} the oldest queued job on its base, or a running one whose lease has run out (its
 * worker stopped renewing it: killed, or cut off), in one statement: on PostgreSQL the candidate row is taken with
 * {@code FOR UPDATE SKIP LOCKED}, so workers claiming at once each get a different job and never wait on each other;
 * SQLite runs the statement under its one write lock. A claim sets the job's worker, counts the attempt and sets the
 * lease's end by the database's clock (so the workers' clocks need not agree). Everything a worker then writes of its
 * job (lease renewals, events, checkpoints, the outcome) is written only while its claim holds, in the same statement,
 * so a worker that lost its job (cancelled, or taken over) changes nothing of it. Events are keyed per job, so a
 * worker that redoes the steps after the last checkpoint adds none twice.
 */
public final class JobStore implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String JOB_COLUMNS = "id, owner, model, base_fingerprint, training_file, validation_file, "
            + "suffix, seed, settings, status, created_at, started_at, finished_at, estimated_tokens, trained_tokens, "
            + "fine_tuned_model, error_code, error_message, error_param, worker, attempt";
    private static final String FILE_COLUMNS = "id, owner, filename, purpose, bytes, sha256, format, examples, tokens, "
            + "labels, created_at";
    /** The condition that a claim still holds: its worker and attempt are the job's, and the job runs. */
    private static final String HOLDS = "id = ? AND worker = ? AND attempt = ? AND status = 'running'";

    private final Database db;
    /** SQL for the database's clock in milliseconds since the epoch. */
    private final String nowMillis;

    private JobStore(Database db) {
        this.db = db;
        this.nowMillis = db.dialect() == Database.Dialect.POSTGRESQL
                ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
                : "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
    }

    /**
     * Opens the jobs in the registry's database at JDBC URL {@code url} ({@code jdbc:sqlite:FILE} or
     * {@code jdbc:postgresql://…}), migrating its schema as the registry does.
     *
     * @throws dev.tailor.adapt.InvalidOptionException naming {@code database} for a URL of another database
     * @throws IllegalStateException                   naming the database when it cannot be reached or migrated
     */
    public static JobStore open(String url) {
        return new JobStore(Database.open(url, "the fine-tuning jobs"));
    }

    /** The JDBC URL of the SQLite registry a server keeps in its state directory {@code state}. */
    public static String sqliteUrl(Path state) {
        return "jdbc:sqlite:" + state.resolve("registry.db").toAbsolutePath();
    }

    /** The database's dialect. */
    public Database.Dialect dialect() {
        return db.dialect();
    }

    /** The database, for reading what the registry holds beside the jobs. */
    Database database() {
        return db;
    }

    /** Closes the database's connections. */
    @Override
    public void close() {
        db.close();
    }

    /** A new id: {@code prefix} and 24 random hex digits. */
    static String newId(String prefix) {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return prefix + HexFormat.of().formatHex(bytes);
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    // ---- files

    /** Records an uploaded file (its bytes are in place already). */
    public void insertFile(TrainingFile f) {
        db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO ft_file (" + FILE_COLUMNS + ") "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, f.id());
                s.setString(2, f.owner());
                s.setString(3, f.filename());
                s.setString(4, f.purpose());
                s.setLong(5, f.bytes());
                s.setString(6, f.sha256());
                s.setString(7, f.format());
                s.setInt(8, f.examples());
                s.setLong(9, f.tokens());
                s.setString(10, f.labels().isEmpty() ? null : write(f.labels()));
                s.setLong(11, f.createdAt());
                return s.executeUpdate();
            }
        });
    }

    /** The file {@code id}, or null. */
    public TrainingFile file(String id) {
        return db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT " + FILE_COLUMNS + " FROM ft_file WHERE id = ?")) {
                s.setString(1, id);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? file(r) : null;
                }
            }
        });
    }

    /**
     * The files of {@code owner} (every owner's when null) of {@code purpose} (any when null), newest first unless
     * {@code ascending}, after the file {@code after} (from the start when null or unknown), at most {@code limit}.
     */
    public Page<TrainingFile> files(String owner, String purpose, String after, int limit, boolean ascending) {
        return db.query(c -> {
            StringBuilder sql = new StringBuilder("SELECT " + FILE_COLUMNS + " FROM ft_file WHERE 1 = 1");
            List<Object> args = new ArrayList<>();
            if (owner != null) {
                sql.append(" AND owner = ?");
                args.add(owner);
            }
            if (purpose != null) {
                sql.append(" AND purpose = ?");
                args.add(purpose);
            }
            Long cursor = after == null ? null : seq(c, "ft_file", after);
            if (cursor != null) {
                sql.append(" AND seq ").append(ascending ? ">" : "<").append(" ?");
                args.add(cursor);
            }
            sql.append(" ORDER BY seq ").append(ascending ? "ASC" : "DESC").append(" LIMIT ?");
            args.add(limit + 1);
            try (PreparedStatement s = bind(c.prepareStatement(sql.toString()), args);
                 ResultSet r = s.executeQuery()) {
                List<TrainingFile> files = new ArrayList<>();
                while (r.next()) {
                    files.add(file(r));
                }
                return page(files, limit);
            }
        });
    }

    /**
     * Deletes the record of file {@code id} unless a job that may still run uses it.
     *
     * @return null when deleted (or already gone), else the id of a job that uses it
     */
    public String deleteFile(String id) {
        return db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("DELETE FROM ft_file WHERE id = ? AND NOT EXISTS ("
                    + "SELECT 1 FROM ft_job WHERE (training_file = ft_file.id OR validation_file = ft_file.id) "
                    + "AND status IN " + JobStatus.activeSql() + ")")) {
                s.setString(1, id);
                if (s.executeUpdate() == 1) {
                    return null;
                }
            }
            try (PreparedStatement s = c.prepareStatement("SELECT id FROM ft_job WHERE (training_file = ? OR "
                    + "validation_file = ?) AND status IN " + JobStatus.activeSql() + " ORDER BY seq LIMIT 1")) {
                s.setString(1, id);
                s.setString(2, id);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? r.getString(1) : null;
                }
            }
        });
    }

    private static TrainingFile file(ResultSet r) throws SQLException {
        String labels = r.getString(10);
        return new TrainingFile(r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getLong(5),
                r.getString(6), r.getString(7), r.getInt(8), r.getLong(9),
                labels == null ? List.of() : read(labels, new TypeReference<List<String>>() { }), r.getLong(11));
    }

    // ---- jobs

    /**
     * Records {@code job} (status {@code validating_files}) and its first event, after checking its owner's
     * {@code limits} (none when null) in the same transaction, which first takes the owner's row, so two creations of
     * one owner are checked one after the other.
     *
     * @throws ApiException 429 when the owner has {@link JobLimits#maxConcurrentJobs()} active jobs, or when the job's
     *                      expected tokens would take the owner past {@link JobLimits#maxTrainingTokens()}; 400 when
     *                      they alone are more than that
     */
    public Job createJob(Job job, JobLimits limits) {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO ft_owner (owner, jobs) VALUES (?, 1) "
                    + "ON CONFLICT (owner) DO UPDATE SET jobs = ft_owner.jobs + 1")) {
                s.setString(1, job.owner());
                s.executeUpdate();
            }
            if (limits != null) {
                checkLimits(c, job, limits);
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO ft_job (" + JOB_COLUMNS + ") "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, job.id());
                s.setString(2, job.owner());
                s.setString(3, job.model());
                s.setString(4, job.baseFingerprint());
                s.setString(5, job.trainingFile());
                s.setString(6, job.validationFile());
                s.setString(7, job.suffix());
                s.setLong(8, job.seed());
                s.setString(9, write(job.settings()));
                s.setString(10, job.status().id());
                s.setLong(11, job.createdAt());
                s.setNull(12, Types.BIGINT);
                s.setNull(13, Types.BIGINT);
                s.setLong(14, job.estimatedTokens());
                s.setNull(15, Types.BIGINT);
                s.setNull(16, Types.VARCHAR);
                s.setNull(17, Types.VARCHAR);
                s.setNull(18, Types.VARCHAR);
                s.setNull(19, Types.VARCHAR);
                s.setNull(20, Types.VARCHAR);
                s.setInt(21, 0);
                s.executeUpdate();
            }
            insertEvent(c, null, job.id(), "created", "info", "message", "Created fine-tuning job " + job.id(),
                    null);
            return job;
        });
    }

    private static void checkLimits(Connection c, Job job, JobLimits limits) throws SQLException {
        String who = job.owner().startsWith("tenant:") ? "tenant '" + job.owner().substring(7) + "'" : job.owner();
        long active;
        long used;
        try (PreparedStatement s = c.prepareStatement("SELECT count(*), coalesce(sum(estimated_tokens), 0) FROM ft_job "
                + "WHERE owner = ? AND status IN " + JobStatus.activeSql())) {
            s.setString(1, job.owner());
            try (ResultSet r = s.executeQuery()) {
                r.next();
                active = r.getLong(1);
                used = r.getLong(2);
            }
        }
        if (active >= limits.maxConcurrentJobs()) {
            throw new ApiException(429, "rate_limit_error", "too_many_jobs", null, who + " has " + active
                    + " fine-tuning jobs validating, queued or running, the most it may have at once; wait for one "
                    + "to finish or cancel one");
        }
        try (PreparedStatement s = c.prepareStatement("SELECT coalesce(sum(trained_tokens), 0) FROM ft_job "
                + "WHERE owner = ? AND status NOT IN " + JobStatus.activeSql())) {
            s.setString(1, job.owner());
            try (ResultSet r = s.executeQuery()) {
                r.next();
                used += r.getLong(1);
            }
        }
        long max = limits.maxTrainingTokens();
        if (job.estimatedTokens() > max) {
            throw ApiException.badRequest("training_file", "this job would train " + job.estimatedTokens()
                    + " tokens (the training file's " + job.estimatedTokens() / job.settings().nEpochs() + " times "
                    + job.settings().nEpochs() + " epochs), more than the " + max + " training tokens " + who
                    + " may use in all");
        }
        if (used + job.estimatedTokens() > max) {
            throw new ApiException(429, "insufficient_quota", "training_tokens_exceeded", "training_file", who
                    + " has used or reserved " + used + " of its " + max + " training tokens; this job would train "
                    + job.estimatedTokens() + " more");
        }
    }

    /** The job {@code id}, or null. */
    public Job job(String id) {
        return db.query(c -> job(c, id));
    }

    private static Job job(Connection c, String id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM ft_job WHERE id = ?")) {
            s.setString(1, id);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? job(r) : null;
            }
        }
    }

    /**
     * The jobs of {@code owner} (every owner's when null), newest first, after the job {@code after} (from the newest
     * when null or unknown), at most {@code limit}.
     */
    public Page<Job> jobs(String owner, String after, int limit) {
        return db.query(c -> {
            StringBuilder sql = new StringBuilder("SELECT " + JOB_COLUMNS + " FROM ft_job WHERE 1 = 1");
            List<Object> args = new ArrayList<>();
            if (owner != null) {
                sql.append(" AND owner = ?");
                args.add(owner);
            }
            Long cursor = after == null ? null : seq(c, "ft_job", after);
            if (cursor != null) {
                sql.append(" AND seq < ?");
                args.add(cursor);
            }
            sql.append(" ORDER BY seq DESC LIMIT ?");
            args.add(limit + 1);
            try (PreparedStatement s = bind(c.prepareStatement(sql.toString()), args);
                 ResultSet r = s.executeQuery()) {
                List<Job> jobs = new ArrayList<>();
                while (r.next()) {
                    jobs.add(job(r));
                }
                return page(jobs, limit);
            }
        });
    }

    /** The ids of the jobs whose files are still to be checked, oldest first. */
    public List<String> validating() {
        return db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT id FROM ft_job WHERE status = 'validating_files' "
                    + "ORDER BY seq"); ResultSet r = s.executeQuery()) {
                List<String> ids = new ArrayList<>();
                while (r.next()) {
                    ids.add(r.getString(1));
                }
                return ids;
            }
        });
    }

    /**
     * Ends the check of job {@code id}'s files: queues it when {@code error} is null, else fails it with {@code error}.
     *
     * @return whether the job was still validating (it may have been cancelled meanwhile)
     */
    public boolean validated(String id, JobError error) {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE ft_job SET status = ?, finished_at = ?, "
                    + "error_code = ?, error_message = ?, error_param = ? "
                    + "WHERE id = ? AND status = 'validating_files'")) {
                s.setString(1, error == null ? JobStatus.QUEUED.id() : JobStatus.FAILED.id());
                if (error == null) {
                    s.setNull(2, Types.BIGINT);
                } else {
                    s.setLong(2, now());
                }
                s.setString(3, error == null ? null : error.code());
                s.setString(4, error == null ? null : error.message());
                s.setString(5, error == null ? null : error.param());
                s.setString(6, id);
                if (s.executeUpdate() == 0) {
                    return false;
                }
            }
            if (error == null) {
                insertEvent(c, null, id, "validated", "info", "message", "Validated training files", null);
            } else {
                insertEvent(c, null, id, "failed", "error", "message", "Fine-tuning job failed: " + error.message(),
                        null);
            }
            return true;
        });
    }

    /**
     * Cancels job {@code id} if it may still run; a worker running it stops at its next step, when it finds its claim
     * gone.
     *
     * @return the job now, or null when there is none
     * @throws ApiException 409 when it has succeeded or failed already
     */
    public Job cancel(String id) {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE ft_job SET status = 'cancelled', finished_at = ?, "
                    + "lease_until = NULL WHERE id = ? AND status IN " + JobStatus.activeSql())) {
                s.setLong(1, now());
                s.setString(2, id);
                if (s.executeUpdate() == 1) {
                    insertEvent(c, null, id, "cancelled", "info", "message", "Fine-tuning job cancelled", null);
                }
            }
            Job job = job(c, id);
            if (job != null && job.status() != JobStatus.CANCELLED) {
                throw ApiException.conflict(null, "fine-tuning job " + id + " has " + job.status().id()
                        + " already; only a job that is validating, queued or running can be cancelled");
            }
            return job;
        });
    }

    private static Job job(ResultSet r) throws SQLException {
        String code = r.getString(17);
        return new Job(r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5),
                r.getString(6), r.getString(7), r.getLong(8), read(r.getString(9), new TypeReference<>() { }),
                JobStatus.of(r.getString(10)), r.getLong(11), nullableLong(r, 12), nullableLong(r, 13), r.getLong(14),
                nullableLong(r, 15), r.getString(16), code == null ? null : new JobError(code, r.getString(18),
                r.getString(19)), r.getString(20), r.getInt(21));
    }

    // ---- workers

    /**
     * Claims for {@code worker} the oldest queued job on the base of {@code fingerprint}, or else a running one whose
     * lease has run out, holding it for {@code lease}.
     *
     * @return the claim, or null when there is no such job
     */
    public Claim claim(String worker, String fingerprint, Duration lease) {
        String pick = "SELECT id FROM ft_job WHERE base_fingerprint = ? AND (status = 'queued' OR (status = 'running' "
                + "AND lease_until < " + nowMillis + ")) ORDER BY seq LIMIT 1"
                + (db.dialect() == Database.Dialect.POSTGRESQL ? " FOR UPDATE SKIP LOCKED" : "");
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE ft_job SET status = 'running', worker = ?, "
                    + "attempt = attempt + 1, lease_until = " + nowMillis + " + ?, "
                    + "started_at = coalesce(started_at, ?) WHERE id = (" + pick + ") RETURNING id, attempt")) {
                s.setString(1, worker);
                s.setLong(2, lease.toMillis());
                s.setLong(3, now());
                s.setString(4, fingerprint);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? new Claim(r.getString(1), worker, r.getInt(2)) : null;
                }
            }
        });
    }

    /** Extends {@code claim}'s lease to {@code lease} from now; false when the claim no longer holds. */
    public boolean renew(Claim claim, Duration lease) {
        return db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE ft_job SET lease_until = " + nowMillis + " + ? "
                    + "WHERE " + HOLDS)) {
                s.setLong(1, lease.toMillis());
                bindClaim(s, 2, claim);
                return s.executeUpdate() == 1;
            }
        });
    }

    /** Whether {@code claim} still holds. */
    public boolean holds(Claim claim) {
        return db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM ft_job WHERE " + HOLDS)) {
                bindClaim(s, 1, claim);
                try (ResultSet r = s.executeQuery()) {
                    return r.next();
                }
            }
        });
    }

    /** Ends {@code claim}'s lease now, leaving the job running for another worker to take over at once. */
    public void release(Claim claim) {
        db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE ft_job SET lease_until = " + nowMillis
                    + " - 1 WHERE " + HOLDS)) {
                bindClaim(s, 1, claim);
                return s.executeUpdate();
            }
        });
    }

    /**
     * Ends the job of {@code claim} as {@code status} ({@code succeeded} with {@code fineTunedModel}, or
     * {@code failed} with {@code error}), with {@code trainedTokens}, and adds {@code message} as its last event.
     *
     * @return false when the claim no longer held (nothing changed)
     */
    public boolean finish(Claim claim, JobStatus status, String fineTunedModel, long trainedTokens, JobError error,
                          String message) {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE ft_job SET status = ?, finished_at = ?, "
                    + "fine_tuned_model = ?, trained_tokens = ?, error_code = ?, error_message = ?, error_param = ?, "
                    + "lease_until = NULL WHERE " + HOLDS)) {
                s.setString(1, status.id());
                s.setLong(2, now());
                s.setString(3, fineTunedModel);
                s.setLong(4, trainedTokens);
                s.setString(5, error == null ? null : error.code());
                s.setString(6, error == null ? null : error.message());
                s.setString(7, error == null ? null : error.param());
                bindClaim(s, 8, claim);
                if (s.executeUpdate() == 0) {
                    return false;
                }
            }
            insertEvent(c, null, claim.job(), status.id(), error == null ? "info" : "error", "message", message,
                    null);
            return true;
        });
    }

    /**
     * Adds an event to {@code job} unless one of {@code key} is there: for a worker ({@code claim} not null) only
     * while its claim holds.
     */
    public void event(Claim claim, String job, String key, String level, String type, String message, JsonNode data) {
        db.query(c -> {
            insertEvent(c, claim, job, key, level, type, message, data);
            return null;
        });
    }

    private void insertEvent(Connection c, Claim claim, String job, String key, String level, String type,
                             String message, JsonNode data) throws SQLException {
        String sql = "INSERT INTO ft_event (job, event_key, created_at, level, type, message, data) "
                + (claim == null ? "VALUES (?, ?, ?, ?, ?, ?, ?)"
                : "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM ft_job WHERE " + HOLDS + ")")
                + " ON CONFLICT (job, event_key) DO NOTHING";
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, job);
            s.setString(2, key);
            s.setLong(3, now());
            s.setString(4, level);
            s.setString(5, type);
            s.setString(6, message);
            s.setString(7, data == null ? null : data.toString());
            if (claim != null) {
                bindClaim(s, 8, claim);
            }
            s.executeUpdate();
        }
    }

    /** Records the checkpoint of update {@code step} with its {@code metrics}, while {@code claim} holds. */
    public void checkpoint(Claim claim, long step, JsonNode metrics) {
        db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO ft_checkpoint (job, step, created_at, metrics) "
                    + "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM ft_job WHERE " + HOLDS + ") "
                    + "ON CONFLICT (job, step) DO NOTHING")) {
                s.setString(1, claim.job());
                s.setLong(2, step);
                s.setLong(3, now());
                s.setString(4, metrics.toString());
                bindClaim(s, 5, claim);
                return s.executeUpdate();
            }
        });
    }

    /** The events of {@code job}, newest first, older than the event {@code after} (from the newest when null). */
    public Page<JobEvent> events(String job, Long after, int limit) {
        return db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT id, job, created_at, level, type, message, data "
                    + "FROM ft_event WHERE job = ? AND id < ? ORDER BY id DESC LIMIT ?")) {
                s.setString(1, job);
                s.setLong(2, after == null ? Long.MAX_VALUE : after);
                s.setInt(3, limit + 1);
                try (ResultSet r = s.executeQuery()) {
                    List<JobEvent> events = new ArrayList<>();
                    while (r.next()) {
                        String data = r.getString(7);
                        events.add(new JobEvent(r.getLong(1), r.getString(2), r.getLong(3), r.getString(4),
                                r.getString(5), r.getString(6), data == null ? null : readTree(data)));
                    }
                    return page(events, limit);
                }
            }
        });
    }

    /**
     * The checkpoints of {@code job}, newest first, older than the checkpoint {@code after} (from the newest when
     * null).
     */
    public Page<JobCheckpoint> checkpoints(String job, Long after, int limit) {
        return db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT id, job, step, created_at, metrics "
                    + "FROM ft_checkpoint WHERE job = ? AND id < ? ORDER BY step DESC LIMIT ?")) {
                s.setString(1, job);
                s.setLong(2, after == null ? Long.MAX_VALUE : after);
                s.setInt(3, limit + 1);
                try (ResultSet r = s.executeQuery()) {
                    List<JobCheckpoint> checkpoints = new ArrayList<>();
                    while (r.next()) {
                        checkpoints.add(new JobCheckpoint(r.getLong(1), r.getString(2), r.getLong(3), r.getLong(4),
                                readTree(r.getString(5))));
                    }
                    return page(checkpoints, limit);
                }
            }
        });
    }

    /** The tokens {@code job}'s training steps trained: the sum over its metrics events, each step counted once. */
    public long trainedTokens(String job) {
        return db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT data FROM ft_event "
                    + "WHERE job = ? AND type = 'metrics'")) {
                s.setString(1, job);
                try (ResultSet r = s.executeQuery()) {
                    long tokens = 0;
                    while (r.next()) {
                        tokens += readTree(r.getString(1)).path("tokens").asLong();
                    }
                    return tokens;
                }
            }
        });
    }

    /** How many changes each adapter name of the registry has had ({@code adapter_change}). */
    public Map<String, Long> registryChanges() {
        return db.query(c -> {
            Map<String, Long> changes = new HashMap<>();
            try (PreparedStatement s = c.prepareStatement("SELECT name, changes FROM adapter_change");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    changes.put(r.getString(1), r.getLong(2));
                }
            }
            return changes;
        });
    }

    // ---- helpers

    /** The place of row {@code id} of {@code table} ({@code ft_file} or {@code ft_job}) in its order, or null. */
    private static Long seq(Connection c, String table, String id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT seq FROM " + table + " WHERE id = ?")) {
            s.setString(1, id);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getLong(1) : null;
            }
        }
    }

    private static void bindClaim(PreparedStatement s, int first, Claim claim) throws SQLException {
        s.setString(first, claim.job());
        s.setString(first + 1, claim.worker());
        s.setInt(first + 2, claim.attempt());
    }

    private static PreparedStatement bind(PreparedStatement s, List<Object> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) {
            s.setObject(i + 1, args.get(i));
        }
        return s;
    }

    private static <T> Page<T> page(List<T> rows, int limit) {
        return rows.size() > limit ? new Page<>(rows.subList(0, limit), true) : new Page<>(rows, false);
    }

    private static Long nullableLong(ResultSet r, int column) throws SQLException {
        long v = r.getLong(column);
        return r.wasNull() ? null : v;
    }

    private static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value + " as JSON", e);
        }
    }

    private static <T> T read(String text, TypeReference<T> type) {
        try {
            return JSON.readValue(text, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the fine-tuning tables hold JSON that does not read back: " + text, e);
        }
    }

    private static JsonNode readTree(String text) {
        return read(text, new TypeReference<JsonNode>() { });
    }
}
