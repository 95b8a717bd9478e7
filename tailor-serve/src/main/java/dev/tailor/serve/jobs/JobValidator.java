package dev.tailor.serve.jobs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Checks a new job's files, then queues the job or fails it ({@code validating_files} to {@code queued} or
 * {@code failed}), off the request's thread: each file must still be recorded and its bytes in the state directory
 * must still hash to what was uploaded (their content was checked when uploaded). A server checks the jobs it creates,
 * and at start any job a stopped server left validating.
 */
final class JobValidator implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(JobValidator.class.getName());

    private final JobStore store;
    private final Path state;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

    JobValidator(JobStore store, Path state) {
        this.store = store;
        this.state = state;
    }

    /** Checks job {@code id} soon. */
    void submit(String id) {
        executor.submit(() -> {
            try {
                Job job = store.job(id);
                if (job != null) {
                    store.validated(id, check(job));
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "cannot check the files of fine-tuning job " + id, e);
            }
        });
    }

    /** Checks every job left validating. */
    void recover() {
        store.validating().forEach(this::submit);
    }

    /** What is wrong with {@code job}'s files, or null. */
    JobError check(Job job) {
        JobError training = check(job.trainingFile(), "training_file");
        return training != null || job.validationFile() == null ? training
                : check(job.validationFile(), "validation_file");
    }

    private JobError check(String id, String param) {
        TrainingFile file = store.file(id);
        if (file == null) {
            return new JobError("invalid_file", "file " + id + " was deleted before the job started", param);
        }
        Path path = FileStore.path(state, id);
        MessageDigest digest = sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(path), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
            String hash = HexFormat.of().formatHex(digest.digest());
            if (!hash.equals(file.sha256())) {
                return new JobError("invalid_file", "the stored bytes of file " + id + " (" + file.filename()
                        + ") changed since it was uploaded: SHA-256 " + hash + ", uploaded " + file.sha256(), param);
            }
            return null;
        } catch (IOException e) {
            return new JobError("invalid_file", "cannot read the stored bytes of file " + id + " (" + file.filename()
                    + "): " + e.getMessage(), param);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits for the checks under way. */
    @Override
    public void close() {
        executor.close();
    }
}
