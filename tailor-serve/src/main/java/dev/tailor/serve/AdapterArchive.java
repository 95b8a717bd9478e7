package dev.tailor.serve;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Unpacks an uploaded adapter archive safely: a zip, a tar or a gzip'd tar, told apart by their first bytes. Only
 * regular files and directories are accepted, each named by a relative path without {@code ..} components and given
 * once; there may be at most {@link Limits#maxEntries()} entries unpacking to at most {@link Limits#maxBytes()} bytes,
 * counted as the bytes are written, so a zip bomb stops at the limit whatever its headers declare. Anything else (an
 * absolute path, {@code ..}, a symbolic or hard link, a device, a FIFO, a duplicate, a damaged archive) is refused
 * with a 400 whose code is {@value #CODE}, naming the entry and the cause. Files are written with the server's
 * default permissions, whatever the archive records.
 * <p>
 * Zips are read by the JDK's {@link ZipFile} (inflating, zip64), with each entry's CRC and size checked; the JDK
 * does not show the Unix file type a zip records for a symbolic link, so the central directory is walked here too for
 * that, and must list the same entries in the same order. Tars are read by {@link TarReader}.
 */
final class AdapterArchive {
    /** The error code of a refused archive. */
    static final String CODE = "invalid_archive";
    /** The request field an archive comes in (a multipart upload's part), which a refusal names. */
    static final String FIELD = "file";
    /** The longest entry path accepted, and the longest part of one (in UTF-8 bytes, as Linux counts). */
    private static final int MAX_PATH = 1024;
    private static final int MAX_NAME_BYTES = 255;

    /**
     * How much an archive may hold.
     *
     * @param maxEntries the most entries (files and directories)
     * @param maxBytes   the most bytes its files may unpack to, together
     */
    record Limits(int maxEntries, long maxBytes) {
        /** At most 1,000 entries; at most 16 times the largest body accepted (an adapter's tensors barely compress). */
        static Limits forBody(long maxBodyBytes) {
            return new Limits(1000, maxBodyBytes > Long.MAX_VALUE / 16 ? Long.MAX_VALUE : 16 * maxBodyBytes);
        }
    }

    private final Path root;
    private final Limits limits;
    private final Set<String> files = new HashSet<>();
    /** Directories given as entries, and every directory, given or implied by a path inside it. */
    private final Set<String> givenDirectories = new HashSet<>();
    private final Set<String> directories = new HashSet<>();
    private int entries;
    private long bytes;

    private AdapterArchive(Path root, Limits limits) {
        this.root = root;
        this.limits = limits;
    }

    /**
     * Unpacks {@code archive} into {@code into} (created; it must not exist) and answers the adapter's directory: the
     * archive's root, or its one top-level directory when that is all the root holds.
     *
     * @throws ApiException 400 ({@value #CODE}) naming the entry and the cause; what was unpacked is left for the
     *                      caller to delete with {@code into}
     * @throws IOException  when the server cannot read the archive or write a file
     */
    static Path unpack(Path archive, Path into, Limits limits) throws IOException {
        Files.createDirectory(into);
        AdapterArchive unpacker = new AdapterArchive(into, limits);
        byte[] head;
        try (InputStream in = Files.newInputStream(archive)) {
            head = in.readNBytes(TarReader.BLOCK);
        }
        if (TarReader.isHeader(head)) {
            try (InputStream in = Files.newInputStream(archive)) {
                unpacker.tar(in);
            }
        } else if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 && head[3] == 4
                || head[2] == 5 && head[3] == 6)) {
            unpacker.zip(archive);
        } else if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(archive), 1 << 16)) {
                unpacker.tar(in);
            } catch (ZipException | EOFException e) {
                throw refused("the gzip stream is damaged: " + e.getMessage());
            }
        } else {
            throw refused("the upload is not a zip, a tar or a gzip'd tar archive");
        }
        if (unpacker.files.isEmpty()) {
            throw refused("the archive holds no files");
        }
        try (Stream<Path> top = Files.list(into)) {
            List<Path> all = top.toList();
            return all.size() == 1 && Files.isDirectory(all.getFirst()) ? all.getFirst() : into;
        }
    }

    private void tar(InputStream in) throws IOException {
        TarReader tar = new TarReader(in);
        try {
            for (TarReader.Entry e = tar.next(); e != null; e = tar.next()) {
                countEntry();
                String path = path(e.name());
                switch (e.type()) {
                    case FILE -> {
                        claimFile(path, e.name());
                        if (e.size() > limits.maxBytes() - bytes) {
                            throw tooLarge(e.name());
                        }
                        write(path, e.name(), tar.content(), e.size(), -1);
                    }
                    case DIRECTORY -> {
                        if (e.size() != 0) {
                            throw refused("the directory '" + shown(e.name()) + "' has " + e.size() + " bytes of data");
                        }
                        claimDirectory(path, e.name());
                    }
                    case SYMBOLIC_LINK, HARD_LINK, CHARACTER_DEVICE, BLOCK_DEVICE, FIFO, SPARSE, OTHER ->
                            throw notFileOrDirectory(e.name(), switch (e.type()) {
                                case SYMBOLIC_LINK -> "a symbolic link";
                                case HARD_LINK -> "a hard link";
                                case CHARACTER_DEVICE -> "a character device";
                                case BLOCK_DEVICE -> "a block device";
                                case FIFO -> "a FIFO";
                                case SPARSE -> "a sparse file";
                                default -> "an entry of tar type '" + e.flag() + "'";
                            });
                }
            }
        } catch (TarReader.MalformedException e) {
            throw refused("the tar archive is damaged: " + e.getMessage());
        }
    }

    /** A zip entry as its central directory records it: what the JDK does not show. */
    private record CentralEntry(String name, int madeBy, long externalAttributes, int flags, int method) {
        /** The Unix file type of the mode recorded by a Unix zip ({@code S_IFLNK} …), or 0. */
        int unixType() {
            return madeBy >>> 8 == 3 ? (int) (externalAttributes >>> 16) & 0xf000 : 0;
        }
    }

    private void zip(Path archive) throws IOException {
        List<CentralEntry> central = centralDirectory(archive);
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            List<? extends ZipEntry> jdk = Collections.list(zip.entries());
            if (jdk.size() != central.size()) {
                throw refused("the zip archive is damaged: its central directory lists " + central.size()
                        + " entries, read as " + jdk.size());
            }
            List<String> paths = new ArrayList<>();
            long declared = 0;
            for (int i = 0; i < central.size(); i++) {
                CentralEntry c = central.get(i);
                ZipEntry z = jdk.get(i);
                if (!c.name().equals(z.getName())) {
                    throw refused("the zip archive is damaged: entry " + (i + 1) + " is named both '"
                            + shown(c.name()) + "' and '" + shown(z.getName()) + "'");
                }
                countEntry();
                String path = path(c.name());
                paths.add(path);
                switch (c.unixType()) {
                    case 0120000 -> throw notFileOrDirectory(c.name(), "a symbolic link");
                    case 0020000 -> throw notFileOrDirectory(c.name(), "a character device");
                    case 0060000 -> throw notFileOrDirectory(c.name(), "a block device");
                    case 0010000 -> throw notFileOrDirectory(c.name(), "a FIFO");
                    case 0140000 -> throw notFileOrDirectory(c.name(), "a socket");
                    default -> { }
                }
                if (z.isDirectory() || c.unixType() == 0040000) {
                    claimDirectory(path, c.name());
                    continue;
                }
                if ((c.flags() & 1) != 0) {
                    throw refused("the entry '" + shown(c.name()) + "' is encrypted");
                }
                if (c.method() != ZipEntry.STORED && c.method() != ZipEntry.DEFLATED) {
                    throw refused("the entry '" + shown(c.name()) + "' is compressed with method " + c.method()
                            + "; only stored and deflated entries are read");
                }
                claimFile(path, c.name());
                declared += Math.max(0, z.getSize());
                if (declared > limits.maxBytes()) {
                    throw tooLarge(c.name());
                }
            }
            for (int i = 0; i < central.size(); i++) {
                ZipEntry z = jdk.get(i);
                if (files.contains(paths.get(i))) {
                    try (InputStream in = zip.getInputStream(z)) {
                        write(paths.get(i), z.getName(), in, z.getSize(), z.getCrc());
                    } catch (ZipException | EOFException e) {
                        throw refused("the zip archive is damaged at entry '" + shown(z.getName()) + "': "
                                + e.getMessage());
                    }
                }
            }
        } catch (ZipException e) {
            throw refused("the zip archive is damaged: " + e.getMessage());
        }
    }

    /**
     * The entries of the zip's central directory, in order, read from its end record (zip64's when the counts
     * overflow), the directory taken to end where the end record begins, as the JDK takes it.
     */
    private List<CentralEntry> centralDirectory(Path archive) throws IOException {
        try (FileChannel ch = FileChannel.open(archive, StandardOpenOption.READ)) {
            long size = ch.size();
            int tailLength = (int) Math.min(size, 22 + 0xffff);
            ByteBuffer tail = read(ch, size - tailLength, tailLength);
            int end = -1;
            for (int i = tailLength - 22; i >= 0; i--) {
                if (tail.getInt(i) == 0x06054b50 && i + 22 + (tail.getShort(i + 20) & 0xffff) == tailLength) {
                    end = i;
                    break;
                }
            }
            if (end < 0) {
                throw refused("the zip archive is damaged: it has no end of central directory record");
            }
            long endAt = size - tailLength + end;
            long count = tail.getShort(end + 10) & 0xffff;
            long length = tail.getInt(end + 12) & 0xffffffffL;
            long directoryEnd = endAt;
            if (count == 0xffff || length == 0xffffffffL || (tail.getInt(end + 16) & 0xffffffffL) == 0xffffffffL) {
                ByteBuffer locator = endAt >= 20 ? read(ch, endAt - 20, 20) : null;
                if (locator == null || locator.getInt(0) != 0x07064b50) {
                    throw refused("the zip archive is damaged: its zip64 end record is missing");
                }
                long at = locator.getLong(8);
                ByteBuffer end64 = at >= 0 && at <= size - 56 ? read(ch, at, 56) : null;
                if (end64 == null || end64.getInt(0) != 0x06064b50) {
                    throw refused("the zip archive is damaged: its zip64 end record is not where its locator says");
                }
                count = end64.getLong(32);
                length = end64.getLong(40);
                directoryEnd = at;
            }
            if (count > limits.maxEntries() || count < 0) {
                throw refused("the archive has more than " + limits.maxEntries() + " entries");
            }
            if (length < 0 || length > directoryEnd) {
                throw refused("the zip archive is damaged: its central directory does not fit in the file");
            }
            List<CentralEntry> entries = new ArrayList<>();
            long at = directoryEnd - length;
            for (long i = 0; i < count; i++) {
                if (at + 46 > directoryEnd) {
                    throw refused("the zip archive is damaged: its central directory ends before entry " + (i + 1));
                }
                ByteBuffer h = read(ch, at, 46);
                if (h.getInt(0) != 0x02014b50) {
                    throw refused("the zip archive is damaged: central directory entry " + (i + 1)
                            + " has no signature");
                }
                int nameLength = h.getShort(28) & 0xffff;
                long next = at + 46 + nameLength + (h.getShort(30) & 0xffff) + (h.getShort(32) & 0xffff);
                if (next > directoryEnd) {
                    throw refused("the zip archive is damaged: central directory entry " + (i + 1)
                            + " runs past its end");
                }
                ByteBuffer name = read(ch, at + 46, nameLength);
                entries.add(new CentralEntry(StandardCharsets.UTF_8.decode(name).toString(),
                        h.getShort(4) & 0xffff, h.getInt(38) & 0xffffffffL, h.getShort(8) & 0xffff,
                        h.getShort(10) & 0xffff));
                at = next;
            }
            return entries;
        }
    }

    private static ByteBuffer read(FileChannel ch, long at, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                throw new EOFException("the archive ends at byte " + (at + b.position()));
            }
        }
        return b.flip();
    }

    private void countEntry() {
        if (++entries > limits.maxEntries()) {
            throw refused("the archive has more than " + limits.maxEntries() + " entries");
        }
    }

    /**
     * The entry's path relative to the root, its parts joined by {@code /} ({@code .} parts and empty ones dropped);
     * empty for the root itself.
     *
     * @throws ApiException for an absolute path, a {@code ..} part, a backslash or a control character, or a path
     *                      too long
     */
    private static String path(String name) {
        if (name.isEmpty()) {
            throw refused("an entry has an empty name");
        }
        if (name.startsWith("/") || name.length() >= 2 && name.charAt(1) == ':' && Character.isLetter(name.charAt(0))) {
            throw refused("the entry '" + shown(name) + "' has an absolute path");
        }
        if (name.indexOf('\\') >= 0) {
            throw refused("the entry '" + shown(name) + "' has a backslash in its name");
        }
        if (name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw refused("the entry '" + shown(name) + "' has a control character in its name");
        }
        if (name.length() > MAX_PATH) {
            throw refused("the entry '" + shown(name) + "' has a path longer than " + MAX_PATH + " characters");
        }
        List<String> parts = new ArrayList<>();
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw refused("the entry '" + shown(name) + "' has a '..' component");
            }
            if (part.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                throw refused("the entry '" + shown(name) + "' has a name longer than " + MAX_NAME_BYTES + " bytes");
            }
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return String.join("/", parts);
    }

    private void claimFile(String path, String name) {
        if (path.isEmpty()) {
            throw refused("the entry '" + shown(name) + "' is a file at the archive's root itself");
        }
        if (files.contains(path) || directories.contains(path)) {
            throw duplicate(name, path);
        }
        claimParents(path, name);
        files.add(path);
    }

    private void claimDirectory(String path, String name) {
        if (path.isEmpty()) {
            return;
        }
        if (files.contains(path) || !givenDirectories.add(path)) {
            throw duplicate(name, path);
        }
        claimParents(path, name);
        directories.add(path);
    }

    /** Notes the directories {@code path} lies in, refusing one that is also a file. */
    private void claimParents(String path, String name) {
        for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
            String parent = path.substring(0, slash);
            if (files.contains(parent)) {
                throw refused("the entry '" + shown(name) + "' lies inside '" + shown(parent) + "', which the "
                        + "archive also has as a file");
            }
            directories.add(parent);
        }
    }

    private static ApiException duplicate(String name, String path) {
        return refused("the archive has '" + shown(path) + "' more than once (again as '" + shown(name) + "')");
    }

    /**
     * Writes {@code in} to the file {@code path}, counting its bytes against the limit as they come; checks that it
     * holds the {@code size} (when not -1) and CRC-32 (when not -1) its header declares.
     */
    private void write(String path, String name, InputStream in, long size, long crc) throws IOException {
        Path target = root.resolve(path).normalize();
        if (!target.startsWith(root) || target.equals(root)) {
            throw refused("the entry '" + shown(name) + "' lies outside the archive's root");
        }
        Files.createDirectories(target.getParent());
        CRC32 sum = new CRC32();
        long written = 0;
        byte[] chunk = new byte[1 << 16];
        try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
                if (n > limits.maxBytes() - bytes) {
                    throw tooLarge(name);
                }
                out.write(chunk, 0, n);
                sum.update(chunk, 0, n);
                bytes += n;
                written += n;
            }
        }
        if (size >= 0 && written != size) {
            throw refused("the entry '" + shown(name) + "' declares " + size + " bytes but holds " + written);
        }
        if (crc >= 0 && sum.getValue() != crc) {
            throw refused("the entry '" + shown(name) + "' fails its CRC-32 check");
        }
    }

    private ApiException tooLarge(String name) {
        return refused("the archive unpacks to more than " + limits.maxBytes() + " bytes (at the entry '"
                + shown(name) + "'), the most this server accepts");
    }

    private static ApiException notFileOrDirectory(String name, String what) {
        return refused("the entry '" + shown(name) + "' is " + what + "; an adapter archive may hold only files "
                + "and directories");
    }

    static ApiException refused(String message) {
        return new ApiException(400, "invalid_request_error", CODE, FIELD, message);
    }

    /** A name as an error shows it: at most 200 characters. */
    private static String shown(String name) {
        return name.length() <= 200 ? name : name.substring(0, 200) + "…";
    }
}
