package dev.tailor.serve;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A {@code multipart/form-data} body (RFC 7578, framed as RFC 2046 says) read one part at a time, each part's content
 * streamed: nothing is held in memory but a part's headers (at most {@value #MAX_HEADER_BYTES} bytes) and a buffer.
 * A malformed body is refused with a 400 naming what is wrong.
 * <pre>{@code
 * MultipartForm form = new MultipartForm(in, MultipartForm.boundary(contentType));
 * for (MultipartForm.Part p = form.next(); p != null; p = form.next()) {
 *     p.content().transferTo(out);    // a part not read to its end is skipped by next()
 * }
 * }</pre>
 */
public final class MultipartForm {
    /** The most bytes of one part's header lines. */
    static final int MAX_HEADER_BYTES = 8 * 1024;
    /** The most parts a form may have. */
    static final int MAX_PARTS = 32;
    private static final int BUFFER = 64 * 1024;

    private final InputStream in;
    /** {@code CRLF--boundary}: what ends a part's content (the body's first one without the CRLF). */
    private final byte[] delimiter;
    private final byte[] buf;
    private int pos;
    private int limit;
    private boolean eof;
    private int parts;
    private boolean closed;
    private PartContent current;

    /**
     * One part: its {@code name} and, for a file, its {@code filename} (null when the part gives none), and its
     * content, readable once, until the next call of {@link #next()}.
     */
    public record Part(String name, String filename, InputStream content) {
    }

    /** A form read from {@code in}, whose parts are delimited by {@code boundary}. */
    public MultipartForm(InputStream in, String boundary) {
        this.in = in;
        this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        this.buf = new byte[BUFFER + delimiter.length];
        // the first delimiter has no CRLF before it: supply one, so the preamble is just a part to skip
        buf[0] = '\r';
        buf[1] = '\n';
        limit = 2;
        current = new PartContent();
    }

    /** Whether {@code contentType} is {@code multipart/form-data}. */
    public static boolean isFormData(String contentType) {
        return contentType != null && contentType.strip().toLowerCase(Locale.ROOT).startsWith("multipart/form-data");
    }

    /**
     * The {@code boundary} parameter of a {@code multipart/form-data} content type.
     *
     * @throws ApiException 400 when it is missing or not a valid boundary (1 to 70 characters, RFC 2046)
     */
    public static String boundary(String contentType) {
        String boundary = parameters(contentType).get("boundary");
        if (boundary == null || boundary.isEmpty() || boundary.length() > 70 || boundary.endsWith(" ")
                || !boundary.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            throw ApiException.badRequest(null, "the Content-Type multipart/form-data needs a boundary of 1 to 70 "
                    + "characters, got " + (boundary == null ? "none" : "'" + boundary + "'"));
        }
        return boundary;
    }

    /**
     * The next part, after skipping what is left of the current one; null after the last.
     *
     * @throws ApiException 400 when the body is not a well-formed form, or has more than {@value #MAX_PARTS} parts
     * @throws IOException  when the body cannot be read
     */
    public Part next() throws IOException {
        if (closed) {
            return null;
        }
        current.transferTo(OutputStream.nullOutputStream());
        // after a delimiter: "--" closes the body, else optional white space and CRLF begin the next part
        if (!ensure(2)) {
            throw malformed("the body ends right after a boundary, without the closing '--'");
        }
        if (buf[pos] == '-' && buf[pos + 1] == '-') {
            closed = true;
            return null;
        }
        while (ensure(1) && (buf[pos] == ' ' || buf[pos] == '\t')) {
            pos++;
        }
        if (!ensure(2) || buf[pos] != '\r' || buf[pos + 1] != '\n') {
            throw malformed("a boundary line must end with CRLF");
        }
        pos += 2;
        if (++parts > MAX_PARTS) {
            throw malformed("it has more than " + MAX_PARTS + " parts");
        }
        Map<String, String> headers = headers();
        String disposition = headers.get("content-disposition");
        if (disposition == null) {
            throw malformed("part " + parts + " has no Content-Disposition header");
        }
        Map<String, String> params = parameters(disposition);
        if (!disposition.strip().toLowerCase(Locale.ROOT).startsWith("form-data") || params.get("name") == null) {
            throw malformed("part " + parts + "'s Content-Disposition must be form-data with a name, got '"
                    + shorten(disposition) + "'");
        }
        current = new PartContent();
        return new Part(params.get("name"), params.get("filename"), current);
    }

    /** The current part's header lines, by lower-case name. */
    private Map<String, String> headers() throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int total = 0;
        while (true) {
            if (!ensure(1)) {
                throw malformed("the body ends inside part " + parts + "'s headers");
            }
            byte b = buf[pos++];
            if (++total > MAX_HEADER_BYTES) {
                throw malformed("part " + parts + "'s headers are longer than " + MAX_HEADER_BYTES + " bytes");
            }
            if (b != '\n') {
                line.write(b);
                continue;
            }
            byte[] bytes = line.toByteArray();
            line.reset();
            int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
            if (end == 0) {
                return headers;
            }
            String text = new String(bytes, 0, end, StandardCharsets.UTF_8);
            int colon = text.indexOf(':');
            if (colon <= 0) {
                throw malformed("part " + parts + " has a header line without a name: '" + shorten(text) + "'");
            }
            headers.put(text.substring(0, colon).strip().toLowerCase(Locale.ROOT), text.substring(colon + 1).strip());
        }
    }

    /**
     * The parameters of a header value {@code type; a=b; c="d"} by lower-case name (quoted values unquoted, a
     * backslash escaping the next character).
     */
    static Map<String, String> parameters(String value) {
        Map<String, String> params = new LinkedHashMap<>();
        if (value == null) {
            return params;
        }
        int i = value.indexOf(';');
        while (i >= 0 && i < value.length()) {
            int eq = value.indexOf('=', i + 1);
            int semi = value.indexOf(';', i + 1);
            if (eq < 0 || (semi >= 0 && semi < eq)) {
                i = semi;
                continue;
            }
            String key = value.substring(i + 1, eq).strip().toLowerCase(Locale.ROOT);
            int j = eq + 1;
            while (j < value.length() && value.charAt(j) == ' ') {
                j++;
            }
            StringBuilder v = new StringBuilder();
            if (j < value.length() && value.charAt(j) == '"') {
                j++;
                while (j < value.length() && value.charAt(j) != '"') {
                    char c = value.charAt(j++);
                    if (c == '\\' && j < value.length()) {
                        c = value.charAt(j++);
                    }
                    v.append(c);
                }
                i = value.indexOf(';', j);
            } else {
                int end = value.indexOf(';', j);
                v.append(value, j, end < 0 ? value.length() : end);
                i = end;
            }
            params.putIfAbsent(key, v.toString().strip());
        }
        return params;
    }

    /** Whether at least {@code n} bytes are buffered, reading more as needed; false at the end of the body. */
    private boolean ensure(int n) throws IOException {
        if (limit - pos >= n) {
            return true;
        }
        if (eof) {
            return false;
        }
        System.arraycopy(buf, pos, buf, 0, limit - pos);
        limit -= pos;
        pos = 0;
        while (limit < n && !eof) {
            int read = in.read(buf, limit, buf.length - limit);
            if (read < 0) {
                eof = true;
            } else {
                limit += read;
            }
        }
        return limit >= n;
    }

    private ApiException malformed(String why) {
        return ApiException.badRequest(null, "the multipart/form-data body is malformed: " + why);
    }

    private static String shorten(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }

    /** A part's content: the bytes up to the next delimiter, which it consumes at its end. */
    private final class PartContent extends InputStream {
        private boolean done;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            if (limit - pos < delimiter.length) {
                ensure(delimiter.length);
            }
            int found = indexOfDelimiter();
            if (found == pos) {
                pos += delimiter.length;
                done = true;
                return -1;
            }
            // up to a match, or up to a tail that may begin one; nothing is safe only at the end of the body
            int safe = found >= 0 ? found : Math.max(pos, limit - delimiter.length + 1);
            if (safe == pos) {
                throw malformed(parts == 0 ? "it has no boundary line" : "the body ends inside part " + parts
                        + " (no closing boundary)");
            }
            int n = Math.min(len, safe - pos);
            System.arraycopy(buf, pos, b, off, n);
            pos += n;
            return n;
        }

        private int indexOfDelimiter() {
            byte first = delimiter[0];
            for (int i = pos; i <= limit - delimiter.length; i++) {
                if (buf[i] == first && Arrays.equals(buf, i, i + delimiter.length, delimiter, 0, delimiter.length)) {
                    return i;
                }
            }
            return -1;
        }
    }
}
