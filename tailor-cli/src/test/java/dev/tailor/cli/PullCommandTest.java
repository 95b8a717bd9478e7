package dev.tailor.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PullCommandTest {
    private static final String COMMIT = "fedcba9876543210fedcba9876543210fedcba98";
    private static final byte[] CONFIG = "{\"model_type\": \"llama\"}".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;
    private HttpServer server;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (path.equals("/api/models/org/tiny/revision/main")) {
            send(ex, 200, ("{\"sha\":\"" + COMMIT + "\",\"siblings\":[{\"rfilename\":\"config.json\",\"size\":"
                    + CONFIG.length + ",\"blobId\":\"0a1b2c\"}]}").getBytes(StandardCharsets.UTF_8));
        } else if (path.equals("/org/tiny/resolve/" + COMMIT + "/config.json")) {
            send(ex, 200, CONFIG);
        } else {
            send(ex, 404, "{\"error\":\"Repository not found\"}".getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(body);
        }
    }

    private int run(String... args) {
        Map<String, String> env = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + server.getAddress().getPort(),
                "HF_HOME", tmp.resolve("home").toString(), "HF_HUB_CACHE", tmp.resolve("hub").toString());
        return new CommandLine(new PullCommand(env)).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(args);
    }

    @Test
    void pullsIntoTheCacheAndPrintsTheSnapshot() throws IOException {
        assertEquals(0, run("org/tiny"), err.toString());
        Path snapshot = tmp.resolve("hub/models--org--tiny/snapshots/" + COMMIT);
        assertEquals(snapshot.toString(), out.toString().strip());
        assertEquals("{\"model_type\": \"llama\"}", Files.readString(snapshot.resolve("config.json")));
        assertEquals(COMMIT, Files.readString(tmp.resolve("hub/models--org--tiny/refs/main")));
        assertTrue(err.toString().contains("downloading config.json (0.0 MB)"), err.toString());
        assertTrue(err.toString().contains("config.json: 0.0 MB in"), err.toString());
    }

    @Test
    void reportsAMissingRepoAndFailsWithStatusOne() {
        assertEquals(1, run("org/missing", "--revision", "main", "--include", "*.json"));
        assertEquals("error: repo org/missing or revision main not found at http://127.0.0.1:"
                + server.getAddress().getPort() + " (HTTP 404)", err.toString().strip());
    }

    @Test
    void rejectsAnInvalidRepoId() {
        assertEquals(2, run("not-a-repo"));
        assertTrue(err.toString().startsWith("error: \"not-a-repo\" is not a repo id of the form ORG/NAME"),
                err.toString());
    }
}
