package dev.tailor.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SsePost} against a loopback socket that answers with bytes written here. */
class SsePostTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Test
    void readsTheLinesOfAChunkedAnswerWhoseChunksCutThroughLines() throws Exception {
        String answer = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "9\r\ndata: {\"a\r\n" + "5;ext=1\r\n\":1}\n\r\n" + "e\r\n\ndata: [DONE]\n\r\n"
                + "0\r\nX-Trailer: t\r\n\r\n";
        Exchange e = exchange(answer, "{\"model\":\"m\"}");
        assertEquals(200, e.status);
        assertEquals(List.of("data: {\"a\":1}", "", "data: [DONE]"), e.lines);
        String request = e.request.get();
        assertTrue(request.startsWith("POST /v1/completions HTTP/1.1\r\n"), request);
        assertTrue(request.contains("Content-Length: 13\r\n"), request);
        assertTrue(request.endsWith("\r\n\r\n{\"model\":\"m\"}"), request);
    }

    @Test
    void readsAnAnswerOfAStatedLengthAndItsStatus() throws Exception {
        Exchange e = exchange("HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n{\"error\":1}\nextra", "{}");
        assertEquals(404, e.status);
        assertEquals(List.of("{\"error\":1}"), e.lines);
    }

    @Test
    void refusesAMalformedChunkSizeAndABodyCutShort() {
        assertThrows(IOException.class, () -> readAll(new SsePost.Chunked(bytes("zz\r\nabc\r\n0\r\n\r\n"))));
        assertThrows(IOException.class, () -> readAll(new SsePost.Chunked(bytes("5\r\nab"))));
        assertThrows(IOException.class, () -> readAll(new SsePost.Chunked(bytes("2\r\nabcd\r\n"))));
        assertThrows(IOException.class, () -> readAll(SsePost.statedLength(bytes("abc"), 5)));
    }

    @Test
    void refusesAnAnswerThatIsNotHttp() {
        assertThrows(IOException.class, () -> exchange("SSH-2.0-OpenSSH\r\n\r\n", "{}"));
        assertThrows(IOException.class, () -> exchange("HTTP/1.1 abc OK\r\n\r\n", "{}"));
        assertThrows(IOException.class, () -> exchange("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "{}"));
        assertThrows(IOException.class, () -> exchange("HTTP/1.1 200 OK\r\nContent-Le", "{}"));
    }

    @Test
    void decodesChunksToTheirBytes() throws IOException {
        assertArrayEquals("hello, world".getBytes(StandardCharsets.US_ASCII),
                readAll(new SsePost.Chunked(bytes("5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"))));
    }

    private record Exchange(int status, List<String> lines, CompletableFuture<String> request) {
    }

    /** Serves {@code answer} once on a loopback port and posts {@code json} to it. */
    private static Exchange exchange(String answer, String json) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> request = CompletableFuture.supplyAsync(() -> {
                try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    StringBuilder head = new StringBuilder();
                    while (!head.toString().endsWith("\r\n\r\n")) {
                        head.append((char) in.read());
                    }
                    byte[] body = in.readNBytes(json.length());
                    OutputStream out = s.getOutputStream();
                    out.write(answer.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    return head + new String(body, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            URI uri = URI.create("http://127.0.0.1:" + server.getLocalPort() + "/v1/completions");
            try (SsePost post = SsePost.send(uri, json.getBytes(StandardCharsets.UTF_8), TIMEOUT)) {
                List<String> lines = new ArrayList<>();
                for (String line = post.nextLine(); line != null; line = post.nextLine()) {
                    lines.add(line);
                }
                return new Exchange(post.status(), lines, request);
            }
        }
    }

    private static InputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }
}
