package dev.tailor.hub;

import dev.tailor.io.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads one file into {@code blobs/}, resumably: bytes go to {@code blobs/X.incomplete}; a later run sends
 * {@code Range: bytes=N-} and appends. The blob appears under its final name only when complete and verified
 * (size, and sha256 for LFS files). An interrupted transfer leaves the partial file for the next run; a transfer
 * that ends cleanly with the wrong size or hash is discarded.
 */
final class BlobDownloader {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final int BUFFER = 1 << 20;

    private final HubHttp http;
    private final DownloadProgress progress;

    BlobDownloader(HubHttp http, DownloadProgress progress) {
        this.http = http;
        this.progress = progress;
    }

    /**
     * Fetches {@code url} into {@code blob} unless it is already there.
     *
     * @param expectedSize bytes the file must have, or -1 to trust the response's length
     * @param sha256       hex digest the content must have, or null
     */
    void download(RepoId repo, String revision, RepoFile file, URI url, Path blob, long expectedSize, String sha256)
            throws IOException {
        Path partial = blob.resolveSibling(blob.getFileName() + ".incomplete");
        long have = Files.exists(partial) ? Files.size(partial) : 0;
        if (expectedSize >= 0 && have > expectedSize) {
            Files.delete(partial);
            have = 0;
        }
        long total = expectedSize;
        if (expectedSize < 0 || have < expectedSize) {
            total = transfer(repo, revision, file, url, partial, have, expectedSize);
        } else {
            progress.start(file.path(), total, have);
        }
        long got = Files.size(partial);
        if (total >= 0 && got != total) {
            Files.delete(partial);
            throw new HubException("size mismatch for " + file.path() + " of " + repo + ": expected " + total
                    + " bytes, received " + got + "; the download was discarded, run the command again");
        }
        if (sha256 != null) {
            String actual = sha256(partial);
            if (!actual.equalsIgnoreCase(sha256)) {
                Files.delete(partial);
                throw new HubException("checksum mismatch for " + file.path() + " of " + repo + ": expected sha256 "
                        + sha256 + ", got " + actual + "; the download was discarded, run the command again");
            }
        }
        AtomicFiles.moveReplacing(partial, blob);
        progress.done(file.path());
    }

    /** Requests the missing bytes and appends them; returns the file's total size if known, else -1. */
    private long transfer(RepoId repo, String revision, RepoFile file, URI url, Path partial, long have,
                          long expectedSize) throws IOException {
        Map<String, String> headers = new HashMap<>(Map.of("Accept-Encoding", "identity"));
        if (have > 0) {
            headers.put("Range", "bytes=" + have + "-");
        }
        HttpResponse<InputStream> r = http.send("GET", url, headers, false, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() == 416 && have > 0) {
            HubHttp.discard(r);
            Files.delete(partial);
            return transfer(repo, revision, file, url, partial, 0, expectedSize);
        }
        HubErrors.check(r, http, repo, revision, file.path());
        boolean append = r.statusCode() == 206;
        if (append) {
            checkRangeStart(r, file, have);
        } else {
            have = 0;
        }
        OptionalLong length = r.headers().firstValueAsLong("Content-Length");
        long total = expectedSize >= 0 ? expectedSize : length.isPresent() ? have + length.getAsLong() : -1;
        progress.start(file.path(), total, have);
        long received = have;
        try (InputStream in = r.body();
             FileChannel out = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[BUFFER];
            for (int n; (n = in.read(buf)) > 0; ) {
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) {
                    out.write(bb);
                }
                received += n;
                progress.advance(n);
            }
            out.force(true);
        } catch (IOException e) {
            throw new HubException("download of " + file.path() + " of " + repo + " was interrupted after " + received
                    + (total >= 0 ? " of " + total : "") + " bytes (" + HubHttp.describe(e) + "); run the same "
                    + "command again to resume", e);
        }
        return total;
    }

    private static void checkRangeStart(HttpResponse<?> r, RepoFile file, long have) {
        String range = r.headers().firstValue("Content-Range").orElse("");
        Matcher m = CONTENT_RANGE.matcher(range);
        if (!m.matches() || Long.parseLong(m.group(1)) != have) {
            HubHttp.discard(r);
            throw new HubException("resuming " + file.path() + " at byte " + have + ": the server answered with "
                    + "Content-Range \"" + range + "\" (" + r.uri() + ")");
        }
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK provides SHA-256", e);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
            while (ch.read(buf) > 0) {
                md.update(buf.flip());
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
