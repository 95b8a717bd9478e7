package dev.tailor.bench;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * The load generator's client: one HTTP/1.1 {@code POST} of JSON over a socket of its own, its answer read as lines
 * on the calling thread as they arrive (a chunked body decoded as it comes, or one of a stated length read whole). A
 * token a server streams wakes only that thread: {@code java.net.http}'s client woke its selector thread, then the
 * reading thread, on the two cores the server under test computes on.
 */
final class SsePost implements Closeable {
    private final Socket socket;
    private final int status;
    private final BufferedReader lines;

    private SsePost(Socket socket, int status, BufferedReader lines) {
        this.socket = socket;
        this.status = status;
        this.lines = lines;
    }

    /**
     * Sends {@code json} to {@code uri} ({@code http} only) and reads the status line and headers.
     *
     * @param timeout how long connecting, and then each read, may wait
     * @throws IOException if the connection fails, times out or the answer is not HTTP/1.1
     */
    static SsePost send(URI uri, byte[] json, Duration timeout) throws IOException {
        int port = uri.getPort() < 0 ? 80 : uri.getPort();
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(uri.getHost(), port), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            String head = "POST " + uri.getRawPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + port
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + json.length
                    + "\r\nConnection: close\r\n\r\n";
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(json);
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String statusLine = headerLine(in);
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP/1.1 answer: " + statusLine);
            }
            int status = number(parts[1], statusLine);
            boolean chunked = false;
            long length = -1;
            for (String h = headerLine(in); !h.isEmpty(); h = headerLine(in)) {
                int colon = h.indexOf(':');
                String name = colon < 0 ? h : h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = colon < 0 ? "" : h.substring(colon + 1).trim();
                if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                    chunked = true;
                } else if (name.equals("content-length")) {
                    length = number(value, h);
                }
            }
            InputStream body = chunked ? new Chunked(in) : length >= 0 ? statedLength(in, length) : in;
            return new SsePost(socket, status, new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8)));
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private static int number(String digits, String line) throws IOException {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new IOException("not a number in the answer's head: " + line, e);
        }
    }

    /** The answer's status code. */
    int status() {
        return status;
    }

    /** The body's next line (without its end), or null at its end. */
    String nextLine() throws IOException {
        return lines.readLine();
    }

    /** Reads the rest of the body, so that the server has written all of it when the socket closes. */
    void drain() throws IOException {
        lines.transferTo(Writer.nullWriter());
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /**
     * A body of a stated length (an error's, never a stream), read whole.
     *
     * @throws EOFException if the answer ends before {@code length} bytes
     */
    static InputStream statedLength(InputStream in, long length) throws IOException {
        byte[] body = in.readNBytes(Math.toIntExact(length));
        if (body.length < length) {
            throw new EOFException("the answer ended before its stated length");
        }
        return new ByteArrayInputStream(body);
    }

    /** A header line of ASCII ending in CRLF (or LF), without its end. */
    static String headerLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("the answer ended inside its head");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    /** A chunked body's data: each chunk's bytes as they arrive, the end at the chunk of size zero. */
    static final class Chunked extends InputStream {
        private final InputStream in;
        private final byte[] one = new byte[1];
        private long left;
        private boolean ended;

        Chunked(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (left == 0 && !nextChunk()) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new EOFException("the answer ended inside a chunk");
            }
            left -= n;
            if (left == 0 && !headerLine(in).isEmpty()) {
                throw new IOException("a chunk not followed by CRLF");
            }
            return n;
        }

        /** Reads the next chunk's size; false at the last chunk (whose trailers it skips). */
        private boolean nextChunk() throws IOException {
            if (ended) {
                return false;
            }
            String size = headerLine(in);
            int semicolon = size.indexOf(';');
            try {
                left = Long.parseLong((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
            } catch (NumberFormatException e) {
                throw new IOException("not a chunk size: " + size, e);
            }
            if (left < 0) {
                throw new IOException("not a chunk size: " + size);
            }
            if (left == 0) {
                ended = true;
                String trailer;
                do {
                    trailer = headerLine(in);
                } while (!trailer.isEmpty());
                return false;
            }
            return true;
        }
    }
}
