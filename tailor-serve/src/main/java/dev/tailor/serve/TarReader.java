package dev.tailor.serve;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The entries of a tar stream, one at a time, as GNU tar, bsdtar and Python's {@code tarfile} write them: POSIX ustar
 * headers (a long name split into {@code prefix} and {@code name}), pax extended headers ({@code path} and
 * {@code size} are read, other keys ignored) and GNU long names. Every header's checksum is checked; a pax or
 * long-name record is at most {@value #MAX_META_BYTES} bytes, refused before it is read, so nothing in an archive
 * makes this hold more than that in memory. What an entry <em>is</em> (a file, a link, a device …) is told, not
 * judged: the caller decides what to accept.
 */
final class TarReader {
    /** The size of a header and the unit data is padded to. */
    static final int BLOCK = 512;
    /** The most bytes of one pax or GNU long-name record. */
    static final int MAX_META_BYTES = 64 * 1024;
    /** The most pax or long-name headers before one entry. */
    private static final int MAX_META_HEADERS = 8;
    /** Where {@link #pax} notes that a pax header describes a sparse file ({@code GNU.sparse.*} keys). */
    private static final String SPARSE = "GNU.sparse.";

    /** What an entry is, by its header's type flag. */
    enum Type { FILE, DIRECTORY, SYMBOLIC_LINK, HARD_LINK, CHARACTER_DEVICE, BLOCK_DEVICE, FIFO, SPARSE, OTHER }

    /**
     * One entry.
     *
     * @param name its path as the archive gives it
     * @param type what it is
     * @param size the bytes of data that follow its header
     * @param flag its header's type flag ({@code '0'}, {@code '5'}, {@code 'S'} …)
     */
    record Entry(String name, Type type, long size, char flag) {
    }

    /** A stream that is not a well-formed tar archive, saying where. */
    static final class MalformedException extends IOException {
        MalformedException(String message) {
            super(message);
        }
    }

    private final InputStream in;
    private long headers;
    /** The current entry's data not read yet, and the padding after it. */
    private long remaining;
    private int padding;
    private String current;

    /** A reader of the tar stream {@code in}, which it reads no further than the end-of-archive blocks. */
    TarReader(InputStream in) {
        this.in = in;
    }

    /** Whether {@code block} (a stream's first {@value #BLOCK} bytes) is a tar header: its checksum is right. */
    static boolean isHeader(byte[] block) {
        return block.length == BLOCK && !allZero(block) && checksumMatches(block);
    }

    /**
     * The next entry, after skipping what is left of the current one's data; null at the end of the archive (two
     * zero blocks, or the end of the stream between entries).
     *
     * @throws MalformedException naming what is wrong
     */
    Entry next() throws IOException {
        skip(remaining + padding);
        remaining = 0;
        padding = 0;
        Map<String, String> pax = new HashMap<>();
        String longName = null;
        for (int meta = 0; ; meta++) {
            byte[] h = in.readNBytes(BLOCK);
            if (h.length == 0 && meta == 0) {
                return null;
            }
            if (h.length < BLOCK) {
                throw new MalformedException("the archive ends inside header " + (headers + 1));
            }
            if (allZero(h)) {
                if (meta > 0) {
                    throw new MalformedException("the archive ends after a pax or long-name header, before its "
                            + "entry");
                }
                return null;
            }
            headers++;
            if (!checksumMatches(h)) {
                throw new MalformedException(headers == 1 ? "it is not a tar archive (its first header's checksum "
                        + "is wrong)" : "header " + headers + " has a wrong checksum"
                        + (current == null ? "" : " (after entry '" + current + "')"));
            }
            char flag = (char) (h[156] & 0xff);
            long size = size(h);
            if (flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K') {
                if (meta >= MAX_META_HEADERS) {
                    throw new MalformedException("more than " + MAX_META_HEADERS + " pax or long-name headers "
                            + "before one entry");
                }
                if (size > MAX_META_BYTES) {
                    throw new MalformedException("a " + (flag == 'x' || flag == 'g' ? "pax" : "long-name")
                            + " header of " + size + " bytes; at most " + MAX_META_BYTES + " are read");
                }
                byte[] data = in.readNBytes((int) size);
                if (data.length < size) {
                    throw new MalformedException("the archive ends inside header " + headers + "'s data");
                }
                skip(pad(size));
                switch (flag) {
                    case 'x' -> pax.putAll(pax(data));
                    case 'L' -> longName = utf8(data, cString(data));
                    default -> { } // 'g' (global pax: git archive's commit comment) and 'K' (a link's target)
                }
                continue;
            }
            String name = pax.containsKey("path") ? pax.get("path") : longName != null ? longName : headerName(h);
            if (pax.containsKey("size")) {
                try {
                    size = Long.parseLong(pax.get("size"));
                } catch (NumberFormatException e) {
                    size = -1;
                }
                if (size < 0) {
                    throw new MalformedException("entry '" + name + "' has a pax size that is not a size: '"
                            + pax.get("size") + "'");
                }
            }
            Type type = pax.containsKey(SPARSE) ? Type.SPARSE : type(flag, name);
            remaining = size;
            padding = pad(size);
            current = name;
            return new Entry(name, type, size, flag);
        }
    }

    /** The current entry's data, read to its end once. */
    InputStream content() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (remaining == 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, remaining));
                if (n < 0) {
                    throw new MalformedException("the archive ends inside entry '" + current + "'");
                }
                remaining -= n;
                return n;
            }
        };
    }

    private static Type type(char flag, String name) {
        return switch (flag) {
            case '0', '\0', '7' -> name.endsWith("/") ? Type.DIRECTORY : Type.FILE;
            case '5' -> Type.DIRECTORY;
            case '1' -> Type.HARD_LINK;
            case '2' -> Type.SYMBOLIC_LINK;
            case '3' -> Type.CHARACTER_DEVICE;
            case '4' -> Type.BLOCK_DEVICE;
            case '6' -> Type.FIFO;
            case 'S' -> Type.SPARSE;
            default -> Type.OTHER;
        };
    }

    /** {@code name}, with POSIX ustar's {@code prefix} before it (GNU's old format keeps other fields there). */
    private String headerName(byte[] h) throws MalformedException {
        String name = utf8(slice(h, 0, 100), cString(slice(h, 0, 100)));
        boolean posix = h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r'
                && h[262] == 0;
        if (posix && h[345] != 0) {
            byte[] prefix = slice(h, 345, 155);
            return utf8(prefix, cString(prefix)) + "/" + name;
        }
        return name;
    }

    /** The size field: octal digits, or GNU's base-256 for sizes past 8 GiB. */
    private long size(byte[] h) throws MalformedException {
        if ((h[124] & 0x80) != 0) {
            if (h[124] != (byte) 0x80) {
                throw new MalformedException("header " + headers + " has a negative size");
            }
            long v = 0;
            for (int i = 125; i < 136; i++) {
                if (v >>> 55 != 0) {
                    throw new MalformedException("header " + headers + " has a size past 2^63 bytes");
                }
                v = (v << 8) | (h[i] & 0xff);
            }
            return v;
        }
        if (blank(h, 124, 12)) {
            return 0;
        }
        long v = octal(h, 124, 12);
        if (v < 0) {
            throw new MalformedException("header " + headers + " has a size that is not octal digits");
        }
        return v;
    }

    /** An octal field (leading spaces, digits, then spaces or NULs), or -1 when it is not one. */
    private static long octal(byte[] h, int from, int length) {
        int i = from;
        int end = from + length;
        while (i < end && (h[i] == ' ' || h[i] == 0)) {
            i++;
        }
        long v = 0;
        int digits = 0;
        for (; i < end && h[i] >= '0' && h[i] <= '7'; i++, digits++) {
            v = (v << 3) | (h[i] - '0');
        }
        for (; i < end; i++) {
            if (h[i] != ' ' && h[i] != 0) {
                return -1;
            }
        }
        return digits == 0 ? -1 : v;
    }

    private static boolean blank(byte[] h, int from, int length) {
        for (int i = from; i < from + length; i++) {
            if (h[i] != ' ' && h[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether the checksum field is the sum of the header's bytes, the field itself counted as spaces (unsigned, or
     * signed as some old tars summed).
     */
    private static boolean checksumMatches(byte[] h) {
        long stored = octal(h, 148, 8);
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            byte b = i >= 148 && i < 156 ? (byte) ' ' : h[i];
            unsigned += b & 0xff;
            signed += b;
        }
        return stored >= 0 && (stored == unsigned || stored == signed);
    }

    /**
     * The records {@code "LEN key=value\n"} of a pax header that matter here: {@code path}, {@code size}, and
     * {@link #SPARSE} when any {@code GNU.sparse.*} key is there (other values, such as bsdtar's binary extended
     * attributes, are skipped unread).
     */
    private Map<String, String> pax(byte[] data) throws MalformedException {
        Map<String, String> records = new HashMap<>();
        int i = 0;
        while (i < data.length) {
            int space = i;
            int length = 0;
            while (space < data.length && data[space] >= '0' && data[space] <= '9' && length <= data.length) {
                length = length * 10 + (data[space++] - '0');
            }
            int end = i + length;
            if (space == i || space >= data.length || data[space] != ' ' || length <= space - i
                    || length > data.length - i || data[end - 1] != '\n') {
                throw new MalformedException("header " + headers + " is not a pax header: a bad record at byte " + i);
            }
            int eq = space + 1;
            while (eq < end && data[eq] != '=') {
                eq++;
            }
            if (eq == end) {
                throw new MalformedException("header " + headers + " has a pax record without '='");
            }
            String key = new String(data, space + 1, eq - space - 1, StandardCharsets.UTF_8);
            if (key.equals("path") || key.equals("size")) {
                byte[] value = slice(data, eq + 1, end - 1 - (eq + 1));
                records.put(key, utf8(value, value.length));
            } else if (key.startsWith(SPARSE)) {
                records.put(SPARSE, "");
            }
            i = end;
        }
        return records;
    }

    private String utf8(byte[] bytes, int length) throws MalformedException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 0, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new MalformedException("header " + headers + " has a name or value that is not UTF-8");
        }
    }

    private void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new MalformedException("the archive ends inside entry '" + current + "'");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    private static int pad(long size) {
        return (int) ((BLOCK - size % BLOCK) % BLOCK);
    }

    /** The length of a NUL-terminated field. */
    private static int cString(byte[] field) {
        int n = 0;
        while (n < field.length && field[n] != 0) {
            n++;
        }
        return n;
    }

    private static byte[] slice(byte[] b, int from, int length) {
        byte[] out = new byte[length];
        System.arraycopy(b, from, out, 0, length);
        return out;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
