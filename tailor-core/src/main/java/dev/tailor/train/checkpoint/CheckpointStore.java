package dev.tailor.train.checkpoint;

import dev.tailor.io.AtomicFiles;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.optim.Optimizer;
import dev.tailor.train.optim.OptimizerState;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoints of one run, as directories {@code checkpoint-{step}} in a root directory.
 *
 * <p>A checkpoint is built in {@code .checkpoint-{step}.tmp-<random hex>} beside its final place; every file in it
 * and the directory itself are forced to disk, then it is renamed to {@code checkpoint-{step}} and the root is
 * forced. A crash at any moment therefore leaves either no {@code checkpoint-{step}} or a complete one. Hidden
 * leftovers of an interrupted save are removed by the next save. After a save, checkpoints beyond the last
 * {@code keepLast} (by step) are deleted, never the one just written.
 */
public final class CheckpointStore {
    /** Name prefix of a complete checkpoint directory. */
    public static final String PREFIX = "checkpoint-";

    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d{1,18})");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;
    private final int keepLast;

    /**
     * A store under {@code root} (created on the first save).
     *
     * @param keepLast how many checkpoints to keep, &gt;= 1; or 0 to keep all
     */
    public CheckpointStore(Path root, int keepLast) {
        if (keepLast < 0) {
            throw new IllegalArgumentException("keepLast must be >= 0 (0 keeps all), got " + keepLast);
        }
        this.root = root;
        this.keepLast = keepLast;
    }

    /** The directory holding the checkpoints. */
    public Path root() {
        return root;
    }

    /**
     * Saves the parameters, optimizer state and trainer state as {@code checkpoint-{state.step()}}.
     *
     * @return the checkpoint directory
     */
    public Path save(List<Parameter> params, OptimizerState optimizer, TrainerState state) {
        return save(state.step(), new CheckpointWriter(params, optimizer, state));
    }

    /**
     * Writes {@code content} atomically as {@code checkpoint-{step}}, replacing one of the same step, then deletes
     * the checkpoints beyond the last {@code keepLast}.
     *
     * @return the checkpoint directory
     * @throws CheckpointException naming the directory when the file system fails; exceptions thrown by
     *                             {@code content} are rethrown; in both cases no new checkpoint is visible
     */
    public Path save(long step, CheckpointContent content) {
        if (step < 0) {
            throw new IllegalArgumentException("checkpoint step must be >= 0, got " + step);
        }
        Path target = root.resolve(PREFIX + step);
        Path tmp = root.resolve("." + PREFIX + step + ".tmp-" + suffix());
        try {
            Files.createDirectories(root);
            removeLeftovers();
            Files.createDirectory(tmp);
        } catch (IOException e) {
            throw new CheckpointException(root + ": cannot prepare checkpoint " + step + ": " + e.getMessage(), e);
        }
        try {
            content.writeTo(tmp);
            forceAll(tmp);
        } catch (IOException e) {
            CheckpointException failure = new CheckpointException(target + ": cannot write checkpoint: "
                    + e.getMessage(), e);
            deleteAfterFailure(tmp, failure);
            throw failure;
        } catch (RuntimeException | Error e) {
            deleteAfterFailure(tmp, e);
            throw e;
        }
        try {
            Path replaced = null;
            if (Files.exists(target)) {
                replaced = root.resolve("." + PREFIX + step + ".old-" + suffix());
                Files.move(target, replaced, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.syncDirectory(root);
            if (replaced != null) {
                deleteTree(replaced);
            }
            prune(target);
        } catch (IOException e) {
            CheckpointException failure = new CheckpointException(target + ": cannot publish checkpoint: "
                    + e.getMessage(), e);
            deleteAfterFailure(tmp, failure);
            throw failure;
        }
        return target;
    }

    /** The complete checkpoints under {@code root}, oldest (lowest step) first; empty if root does not exist. */
    public static List<Path> list(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(root)) {
            entries.filter(CheckpointStore::isComplete).forEach(found::add);
        } catch (IOException e) {
            throw new CheckpointException(root + ": cannot list checkpoints: " + e.getMessage(), e);
        }
        found.sort(Comparator.comparingLong(CheckpointStore::stepOf));
        return found;
    }

    /** The complete checkpoint with the highest step under {@code root}, ignoring temporary directories. */
    public static Optional<Path> latest(Path root) {
        List<Path> all = list(root);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    /**
     * The step in a checkpoint directory's name.
     *
     * @throws IllegalArgumentException if the name is not {@code checkpoint-{step}}
     */
    public static long stepOf(Path checkpoint) {
        Matcher m = NAME.matcher(checkpoint.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException(checkpoint + ": not a checkpoint directory name (checkpoint-{step})");
        }
        return Long.parseLong(m.group(1));
    }

    /**
     * Restores a checkpoint into the parameters' arrays and the optimizer; see {@link CheckpointReader#load}.
     *
     * @return the trainer state
     */
    public static TrainerState load(Path checkpoint, List<Parameter> params, Optimizer optimizer) {
        return CheckpointReader.load(checkpoint, params, optimizer);
    }

    /** The trainer state of a checkpoint alone, restoring nothing; see {@link CheckpointReader#state}. */
    public static TrainerState state(Path checkpoint) {
        return CheckpointReader.state(checkpoint);
    }

    private static boolean isComplete(Path dir) {
        return NAME.matcher(dir.getFileName().toString()).matches() && Files.isDirectory(dir)
                && Files.isRegularFile(dir.resolve(CheckpointWriter.TRAINER_STATE))
                && Files.isRegularFile(dir.resolve(CheckpointWriter.TRAINABLE))
                && Files.isRegularFile(dir.resolve(CheckpointWriter.OPTIMIZER));
    }

    /** Deletes the oldest checkpoints beyond {@code keepLast}, sparing {@code justWritten}. */
    private void prune(Path justWritten) throws IOException {
        if (keepLast == 0) {
            return;
        }
        List<Path> all = new ArrayList<>(list(root));
        all.remove(justWritten);
        int excess = all.size() + 1 - keepLast;
        for (int i = 0; i < excess; i++) {
            Path doomed = all.get(i);
            Path hidden = root.resolve("." + doomed.getFileName() + ".deleting-" + suffix());
            Files.move(doomed, hidden, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(hidden);
        }
    }

    /** Removes hidden {@code .checkpoint-*} directories left by an interrupted save or deletion. */
    private void removeLeftovers() throws IOException {
        List<Path> leftovers;
        try (Stream<Path> entries = Files.list(root)) {
            leftovers = entries.filter(p -> p.getFileName().toString().startsWith("." + PREFIX)).toList();
        }
        for (Path p : leftovers) {
            deleteTree(p);
        }
    }

    /** Forces every regular file in {@code dir}, then the directory, to disk. */
    private static void forceAll(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    ch.force(true);
                }
            }
        }
        AtomicFiles.syncDirectory(dir);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Deletes {@code dir} after {@code failure}; an error doing so is attached to it as suppressed (the hidden
     * directory is then removed by the next save).
     */
    private static void deleteAfterFailure(Path dir, Throwable failure) {
        try {
            deleteTree(dir);
        } catch (IOException | UncheckedIOException e) {
            failure.addSuppressed(e);
        }
    }

    private static String suffix() {
        byte[] b = new byte[4];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
