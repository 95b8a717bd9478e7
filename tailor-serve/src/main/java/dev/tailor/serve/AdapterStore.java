package dev.tailor.serve;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A content-addressed store of adapter directories: {@code root/sha256/<hash>/} holds a copy of a directory whose
 * files hash to {@code <hash>}, so the same files registered twice share one copy. A directory is copied into
 * {@code root/tmp/}, hashed there, checked by the caller, then renamed into place atomically; a copy is never changed
 * afterwards.
 */
public final class AdapterStore {
    private final Path root;

    /** A store in {@code root}, created if absent. */
    public AdapterStore(Path root) {
        this.root = root;
        try {
            Files.createDirectories(root.resolve("sha256"));
            Files.createDirectories(root.resolve("tmp"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the adapter store in " + root + ": " + e.getMessage(), e);
        }
    }

    /** Where the files of {@code sha256} are. */
    public Path dir(String sha256) {
        return root.resolve("sha256").resolve(sha256);
    }

    /** A fresh directory in the store's scratch space, named {@code prefix…}; the caller deletes it. */
    public Path scratch(String prefix) {
        try {
            return Files.createTempDirectory(root.resolve("tmp"), prefix);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a directory in " + root.resolve("tmp") + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * A copy of {@code source} in the store's scratch space, with its hash and size: {@link Staged#commit()} puts it in
     * place, {@link Staged#discard()} drops it.
     *
     * @throws UncheckedIOException naming the file that cannot be read
     */
    public Staged stage(Path source) {
        Path tmp;
        try {
            tmp = Files.createTempDirectory(root.resolve("tmp"), "staged-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage in " + root + ": " + e.getMessage(), e);
        }
        try {
            List<Path> files;
            try (Stream<Path> walk = Files.walk(source)) {
                files = walk.filter(Files::isRegularFile).map(source::relativize)
                        .sorted(Comparator.comparing(AdapterStore::portable)).toList();
            }
            MessageDigest digest = sha256();
            long bytes = 0;
            for (Path file : files) {
                Path to = tmp.resolve(file);
                Files.createDirectories(to.getParent());
                Files.copy(source.resolve(file), to);
                digest.update((portable(file) + "\0" + Files.size(to) + "\0").getBytes(StandardCharsets.UTF_8));
                try (InputStream in = new DigestInputStream(Files.newInputStream(to), digest)) {
                    in.transferTo(OutputStream.nullOutputStream());
                }
                bytes += Files.size(to);
            }
            return new Staged(tmp, HexFormat.of().formatHex(digest.digest()), bytes);
        } catch (IOException e) {
            delete(tmp);
            throw new UncheckedIOException("cannot copy " + source + " into the adapter store: " + e.getMessage(), e);
        }
    }

    /**
     * A directory copied into the store's scratch space and hashed, not yet in place.
     *
     * @param dir    where the copy is
     * @param sha256 the hash of its files (each file's relative path, size and bytes, in path order)
     * @param bytes  the files' total size
     */
    public record Staged(Path dir, String sha256, long bytes) {
    }

    /**
     * Puts {@code staged} in place under its hash (or drops it when the same files are there already) and answers where
     * its files are now.
     */
    public Path commit(Staged staged) {
        Path target = dir(staged.sha256());
        if (Files.isDirectory(target)) {
            discard(staged);
            return target;
        }
        try {
            Files.move(staged.dir(), target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            discard(staged);
        } catch (AtomicMoveNotSupportedException e) {
            throw new UncheckedIOException("the adapter store " + root + " cannot rename atomically", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + staged.dir() + " to " + target + ": " + e.getMessage(), e);
        }
        return target;
    }

    /** Drops a staged copy. */
    public void discard(Staged staged) {
        delete(staged.dir());
    }

    private static void delete(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }

    /** A relative path with {@code /} between its parts, whatever the platform. */
    private static String portable(Path relative) {
        return relative.toString().replace(relative.getFileSystem().getSeparator(), "/");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
