package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.OutputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests through the server's running batch: sixteen at once over the base, two adapters and a stack answer, text
 * and log-probabilities bit for bit, what each answers alone; a client that goes away leaves the batch.
 */
class BatchingTest {
    private static final String[] MODELS = {ServerFixture.BASE, "a", "b", "a+b"};
    private static ServerFixture fixture;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        fixture = ServerFixture.start(tmp, ServerOptions.defaults());
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private static String request(int i) {
        return """
                {"model": "%s", "prompt": "Call me Ishmael, said sailor %d", "max_tokens": 32, "temperature": 0.8,
                 "seed": %d, "logprobs": 3}""".formatted(MODELS[i % MODELS.length], i, i);
    }

    private static HttpRequest post(String body) {
        return HttpRequest.newBuilder(URI.create(fixture.baseUrl() + "/v1/completions"))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** What must be equal: the text and the log-probabilities. */
    private static String answer(String body) throws Exception {
        JsonNode choice = ServerFixture.json(body).at("/choices/0");
        assertEquals(32, choice.at("/logprobs/tokens").size(), body);
        return choice.get("text").asText() + "\n" + choice.get("logprobs");
    }

    @Test
    void sixteenConcurrentRequestsOverAdaptersAnswerAsEachAlone() throws Exception {
        List<String> alone = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            HttpResponse<String> r = fixture.post("/v1/completions", request(i));
            assertEquals(200, r.statusCode(), r.body());
            alone.add(answer(r.body()));
        }
        List<CompletableFuture<HttpResponse<String>>> together = new ArrayList<>();
        try (AutoCloseable pause = fixture.server.batcher().pause()) {
            for (int i = 0; i < 16; i++) {
                together.add(fixture.http.sendAsync(post(request(i)), HttpResponse.BodyHandlers.ofString()));
            }
            await(() -> fixture.server.batcher().waiting() == 16, "all sixteen wait for the batch");
        }
        for (int i = 0; i < 16; i++) {
            HttpResponse<String> r = together.get(i).get(60, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(alone.get(i), answer(r.body()), "request " + i + " on " + MODELS[i % MODELS.length]);
        }
        String metrics = fixture.get("/metrics").body();
        assertTrue(metrics.contains("tailor_batch_sequences_max 16.0"), "one step ran all sixteen:\n" + metrics);
    }

    @Test
    void aClientThatGoesAwayLeavesTheBatch() throws Exception {
        String body = """
                {"model": "a", "prompt": "Call me", "max_tokens": 240, "stream": true}""";
        String before = fixture.get("/metrics").body();
        double steps = sample(before, "tailor_batch_rows_count");
        double generated = sample(before, "tailor_generated_tokens_total");
        try (Socket socket = new Socket("127.0.0.1", fixture.server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader lines = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            String line;
            while ((line = lines.readLine()) != null && !line.contains("data: ")) {
                assertTrue(line.isEmpty() || !line.startsWith("HTTP/1.1 ") || line.contains("200"), line);
            }
            assertTrue(line != null, "a first event came");
            socket.setSoLinger(true, 0);
        }
        await(() -> fixture.server.batcher().running() == 0, "the request left the batch");
        String after = fixture.get("/metrics").body();
        assertTrue(sample(after, "tailor_batch_rows_count") - steps < 120, "it left long before its 240 tokens");
        assertEquals(generated, sample(after, "tailor_generated_tokens_total"), "it never finished");
    }

    /** The value of the metric line starting with {@code name} (and a space) in a scrape. */
    private static double sample(String scrape, String name) {
        return scrape.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(
                l.substring(name.length() + 1))).findFirst().orElse(0);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out: " + what);
            Thread.sleep(5);
        }
    }
}
