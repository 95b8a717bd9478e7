package dev.tailor.serve;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Archives and upload bodies made byte by byte for the upload tests: tars (ustar headers, any type flag, pax records),
 * zips (the JDK's, then patched to say what the JDK will not write: a Unix file type, a duplicate name, a size that
 * lies), gzip, and {@code multipart/form-data} bodies.
 */
final class Archives {
    static final String BOUNDARY = "----tailor-upload-boundary-7MA4YWxkTrZu0gW";

    private Archives() {
    }

    /** A tar written header by header. */
    static final class Tar {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Tar file(String name, byte[] data) {
            return entry(name, '0', data, "");
        }

        Tar dir(String name) {
            return entry(name, '5', new byte[0], "");
        }

        /** An entry of type {@code flag} (a name over 100 bytes goes in a pax record before it). */
        Tar entry(String name, char flag, byte[] data, String link) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            if (n.length > 100) {
                pax("path", name);
                n = Arrays.copyOf(n, 100);
            }
            return header(n, flag, data.length, link).data(data);
        }

        /** A pax header of one record {@code key=value}. */
        Tar pax(String key, String value) {
            String body = " " + key + "=" + value + "\n";
            int length = body.length() + 1;
            while (String.valueOf(length).length() + body.length() != length) {
                length++;
            }
            byte[] record = (length + body).getBytes(StandardCharsets.UTF_8);
            return header("PaxHeader".getBytes(StandardCharsets.UTF_8), 'x', record.length, "").data(record);
        }

        /** A header alone: {@code size} bytes of data should follow. */
        Tar header(byte[] name, char flag, long size, String link) {
            byte[] h = new byte[512];
            System.arraycopy(name, 0, h, 0, Math.min(name.length, 100));
            octal(h, 100, 8, 0644);
            octal(h, 108, 8, 0);
            octal(h, 116, 8, 0);
            octal(h, 124, 12, size);
            octal(h, 136, 12, 1_704_067_200L);
            h[156] = (byte) flag;
            byte[] l = link.getBytes(StandardCharsets.UTF_8);
            System.arraycopy(l, 0, h, 157, Math.min(l.length, 100));
            System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
            h[263] = '0';
            h[264] = '0';
            Arrays.fill(h, 148, 156, (byte) ' ');
            int sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            byte[] chk = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(chk, 0, h, 148, 8);
            out.writeBytes(h);
            return this;
        }

        /** Data and its padding to a whole block. */
        Tar data(byte[] data) {
            out.writeBytes(data);
            out.writeBytes(new byte[(512 - data.length % 512) % 512]);
            return this;
        }

        /** The archive, ended by two zero blocks. */
        byte[] bytes() {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.writeBytes(out.toByteArray());
            all.writeBytes(new byte[1024]);
            return all.toByteArray();
        }

        private static void octal(byte[] h, int at, int length, long value) {
            String s = String.format("%0" + (length - 1) + "o", value);
            System.arraycopy(s.getBytes(StandardCharsets.US_ASCII), 0, h, at, length - 1);
        }
    }

    /** The files of {@code dir} as a tar, under {@code top/} when it is not null. */
    static byte[] tar(Path dir, String top) {
        Tar tar = new Tar();
        if (top != null) {
            tar.dir(top + "/");
        }
        files(dir).forEach((name, data) -> tar.file(top == null ? name : top + "/" + name, data));
        return tar.bytes();
    }

    /** The files of {@code dir} as a zip, under {@code top/} when it is not null. */
    static byte[] zip(Path dir, String top) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        if (top != null) {
            entries.put(top + "/", new byte[0]);
        }
        files(dir).forEach((name, data) -> entries.put(top == null ? name : top + "/" + name, data));
        return zip(entries);
    }

    /** A zip of {@code entries} (a name ending in {@code /} is a directory), deflated. */
    static byte[] zip(Map<String, byte[]> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** {@code zip} with the central directory entry {@code name} made by Unix with file mode {@code mode}. */
    static byte[] unixMode(byte[] zip, String name, int mode) {
        byte[] out = zip.clone();
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        int at = central(out, name);
        b.putShort(at + 4, (short) (3 << 8 | 20));
        b.putInt(at + 38, mode << 16);
        return out;
    }

    /** {@code zip} whose central directory says the entry {@code name} unpacks to {@code size} bytes. */
    static byte[] declaredSize(byte[] zip, String name, int size) {
        byte[] out = zip.clone();
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(central(out, name) + 24, size);
        return out;
    }

    /** {@code zip} with every occurrence of the name {@code from} (local and central) replaced by {@code to}. */
    static byte[] rename(byte[] zip, String from, String to) {
        byte[] f = from.getBytes(StandardCharsets.UTF_8);
        byte[] t = to.getBytes(StandardCharsets.UTF_8);
        if (f.length != t.length) {
            throw new IllegalArgumentException("names of the same length only");
        }
        byte[] out = zip.clone();
        for (int i = 0; i + f.length <= out.length; i++) {
            if (Arrays.equals(out, i, i + f.length, f, 0, f.length)) {
                System.arraycopy(t, 0, out, i, t.length);
            }
        }
        return out;
    }

    /** Where the central directory entry named {@code name} begins. */
    private static int central(byte[] zip, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 46 <= zip.length; i++) {
            if (b.getInt(i) == 0x02014b50 && (b.getShort(i + 28) & 0xffff) == n.length
                    && Arrays.equals(zip, i + 46, i + 46 + n.length, n, 0, n.length)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no central directory entry " + name);
    }

    /** The regular files under {@code dir} by their relative path, in path order. */
    static Map<String, byte[]> files(Path dir) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                files.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    /**
     * A {@code multipart/form-data} body (boundary {@link #BOUNDARY}) of text {@code fields} and, when
     * {@code archive} is not null, the part {@code file} named {@code filename}.
     */
    static byte[] form(Map<String, String> fields, String filename, byte[] archive) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        fields.forEach((name, value) -> body.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; "
                + "name=\"" + name + "\"\r\n\r\n" + value + "\r\n").getBytes(StandardCharsets.UTF_8)));
        if (archive != null) {
            body.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                    + filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            body.writeBytes(archive);
            body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return body.toByteArray();
    }
}
