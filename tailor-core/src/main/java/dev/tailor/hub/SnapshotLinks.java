package dev.tailor.hub;

import dev.tailor.io.AtomicFiles;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Entries of {@code snapshots/COMMIT/}: relative symlinks into {@code blobs/}, or copies where links fail. */
final class SnapshotLinks {
    private SnapshotLinks() {
    }

    /**
     * Where a repo path lives in a snapshot.
     *
     * @throws HubException if the path is absolute or climbs out of the snapshot
     */
    static Path target(Path snapshot, String repoPath) {
        Path link = snapshot.resolve(repoPath).normalize();
        if (repoPath.isEmpty() || repoPath.startsWith("/") || !link.startsWith(snapshot) || link.equals(snapshot)) {
            throw new HubException("the Hub listed an unsafe file name \"" + repoPath + "\"; refusing to write it");
        }
        return link;
    }

    /** Makes {@code link} point to {@code blob} (replacing a stale entry); copies the blob if symlinks fail. */
    static void link(Path blob, Path link) throws IOException {
        Files.createDirectories(link.getParent());
        Files.deleteIfExists(link);
        Path relative = link.getParent().relativize(blob);
        try {
            Files.createSymbolicLink(link, relative);
        } catch (UnsupportedOperationException | IOException e) {
            AtomicFiles.write(link, out -> {
                try (FileChannel in = FileChannel.open(blob, StandardOpenOption.READ)) {
                    long size = in.size();
                    for (long pos = 0; pos < size; ) {
                        pos += in.transferTo(pos, size - pos, out);
                    }
                }
            });
        }
        if (!Files.exists(link) && Files.isSymbolicLink(link)) {
            throw new HubException(link + ": the link to " + blob + " is broken");
        }
    }
}
