package dev.tailor.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Writes a file so that readers see either the old content or the complete new one: the bytes go to
 * {@code name.tmp-<8 random hex digits>} in the same directory, are forced to disk, and the temporary file is renamed over the
 * target. On any failure the target is untouched and the temporary file is removed.
 */
public final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {
    }

    /** Fills the channel of the temporary file. */
    @FunctionalInterface
    public interface Content {
        /** Writes the whole content to {@code channel}, positioned at 0. */
        void writeTo(FileChannel channel) throws IOException;
    }

    /**
     * Writes {@code target} atomically.
     *
     * @param target  the file to create or replace; its directory must exist
     * @param content writes the bytes
     * @throws IOException from the file system or from {@code content}; the target is then unchanged
     */
    public static void write(Path target, Content content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        byte[] suffix = new byte[4];
        RANDOM.nextBytes(suffix);
        Path tmp = dir.resolve(target.getFileName() + ".tmp-" + HexFormat.of().formatHex(suffix));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                content.writeTo(ch);
                ch.force(true);
            }
            moveReplacing(tmp, target);
        } catch (IOException | RuntimeException | Error e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        syncDirectory(dir);
    }

    /** Renames {@code source} over {@code target}, atomically where the file system can. */
    public static void moveReplacing(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Forces a directory's entries to disk where the platform allows it (Linux does; others may not). */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Platforms that cannot open a directory as a channel give no way to sync it; the rename stands.
            return;
        }
    }
}
