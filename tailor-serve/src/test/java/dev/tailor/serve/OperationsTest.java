package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.model.NamedTensors;
import dev.tailor.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /ready}, {@code /metrics}, the access log, the queue limit (429) and the request timeout (504). */
class OperationsTest {
    private static final String TEXT = "{\"model\": \"%s\", \"prompt\": \"The\", \"max_tokens\": %d%s}";

    @Test
    void metricsCountWhatWasServedAndTheAccessLogHasALinePerRequest(@TempDir Path tmp) throws Exception {
        List<String> access = new ArrayList<>();
        Logger logger = Logger.getLogger(TailorServer.ACCESS_LOG);
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                synchronized (access) {
                    access.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try (ServerFixture f = ServerFixture.start(tmp, ServerOptions.defaults())) {
            assertEquals(200, f.get("/ready").statusCode());
            String before = f.get("/metrics").body();
            int tokens = 0;
            int pieces = 0;
            int streams = 0;
            for (String model : List.of("tiny", "tiny", "a")) {
                HttpResponse<String> r = f.post("/v1/completions", TEXT.formatted(model, 8,
                        ", \"stream\": true, \"stream_options\": {\"include_usage\": true}"));
                assertEquals(200, r.statusCode(), r.body());
                int these = 0;
                for (String line : r.body().split("\n")) {
                    if (!line.startsWith("data: {")) {
                        continue;
                    }
                    JsonNode chunk = ServerFixture.json(line.substring(6));
                    if (!chunk.get("choices").isEmpty() && !chunk.get("choices").get(0).get("text").asText().isEmpty()) {
                        these++;
                    }
                    if (chunk.hasNonNull("usage")) {
                        tokens += chunk.get("usage").get("completion_tokens").asInt();
                    }
                }
                pieces += these;
                streams += these > 0 ? 1 : 0;
            }
            assertEquals(404, f.post("/v1/completions", TEXT.formatted("nope", 2, "")).statusCode());
            HttpResponse<String> scrape = f.get("/metrics");
            assertEquals(200, scrape.statusCode());
            assertTrue(scrape.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            String after = scrape.body();

            String ok = "endpoint=\"/v1/completions\"";
            assertEquals(2, delta(before, after, "tailor_requests_total", ok, "model=\"tiny\"", "status=\"200\""));
            assertEquals(1, delta(before, after, "tailor_requests_total", ok, "model=\"a\"", "status=\"200\""));
            assertEquals(1, delta(before, after, "tailor_requests_total", ok, "model=\"none\"", "status=\"404\""));
            assertEquals(3, delta(before, after, "tailor_request_seconds_count", ok, "status=\"200\""));
            assertEquals(3, delta(before, after, "tailor_request_seconds_bucket", ok, "status=\"200\"",
                    "le=\"+Inf\""));
            assertTrue(tokens > 0, "something was generated");
            assertEquals(tokens, delta(before, after, "tailor_generated_tokens_total"));
            assertEquals(streams, delta(before, after, "tailor_time_to_first_token_seconds_count"));
            assertEquals(pieces - streams, delta(before, after, "tailor_inter_token_seconds_count"));
            assertEquals(0, sample(after, "tailor_queue_length"));
            assertEquals(2, sample(after, "tailor_adapters_loaded"));

            synchronized (access) {
                assertTrue(access.stream().anyMatch(l -> l.contains("\"path\":\"/v1/completions\"")
                        && l.contains("\"model\":\"a\"") && l.contains("\"status\":200")
                        && !l.contains("\"completion_tokens\":0,")), String.join("\n", access));
                assertTrue(access.stream().anyMatch(l -> l.contains("\"method\":\"POST\"")
                        && l.contains("\"model\":\"none\"") && l.contains("\"status\":404")
                        && l.contains("\"duration_ms\":")), String.join("\n", access));
            }
        } finally {
            logger.removeHandler(capture);
        }
    }

    @Test
    void aFullQueueIsRefusedWith429AndShutdownTurnsReadyTo503WhileTheQueueDrains(@TempDir Path tmp)
            throws Exception {
        ServerFixture f = ServerFixture.start(tmp, ServerOptions.defaults().withMaxQueue(1));
        try (var pause = f.server.batcher().pause()) {
            CompletableFuture<HttpResponse<String>> waiting = f.http.sendAsync(request(f, TEXT.formatted("tiny", 2,
                    "")), HttpResponse.BodyHandlers.ofString());
            await(() -> f.server.batcher().waiting() == 1, "the first request waits");

            HttpResponse<String> refused = f.post("/v1/completions", TEXT.formatted("tiny", 2, ""));
            assertEquals(429, refused.statusCode(), refused.body());
            assertTrue(Integer.parseInt(refused.headers().firstValue("Retry-After").orElseThrow()) >= 1);
            JsonNode error = ServerFixture.json(refused.body()).get("error");
            assertEquals("queue_full", error.get("code").asText());
            assertTrue(error.get("message").asText().contains("1 requests already wait"), refused.body());
            String metrics = f.get("/metrics").body();
            assertEquals(1, sample(metrics, "tailor_queue_length"));
            assertEquals(1, sample(metrics, "tailor_requests_total", "status=\"429\""));

            Thread closer = Thread.ofVirtual().start(f.server::close);
            await(() -> {
                try {
                    return f.get("/ready").statusCode() == 503;
                } catch (Exception e) {
                    return false;
                }
            }, "/ready answers 503 while draining");
            assertEquals(503, f.post("/v1/completions", TEXT.formatted("tiny", 2, "")).statusCode());
            assertEquals(200, f.get("/health").statusCode(), "/health stays as it was");

            pause.close();
            assertEquals(200, waiting.get(30, TimeUnit.SECONDS).statusCode(), "the queued request finishes");
            closer.join(Duration.ofSeconds(30));
            assertTrue(!closer.isAlive(), "the server stopped once drained");
        } finally {
            f.close();
        }
    }

    @Test
    void aRequestWhoseChoicesOverflowTheQueueIsRefusedWholeAndLeavesNothingBehind(@TempDir Path tmp)
            throws Exception {
        try (ServerFixture f = ServerFixture.start(tmp, ServerOptions.defaults().withMaxQueue(3))) {
            try (var pause = f.server.batcher().pause()) {
                HttpResponse<String> refused = f.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": "
                        + "\"hi\", \"max_tokens\": 2, \"n\": 5}");
                assertEquals(429, refused.statusCode(), refused.body());
            }
            await(() -> f.server.batcher().waiting() == 0 && f.server.batcher().running() == 0,
                    "the three choices already queued are cancelled");
            HttpResponse<String> next = f.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hi\", "
                    + "\"max_tokens\": 2, \"n\": 3}");
            assertEquals(200, next.statusCode(), next.body());
            assertEquals(3, ServerFixture.json(next.body()).get("choices").size());
        }
    }

    /**
     * The regrouped copies of the base's multiplied weights are made when the server starts, not by its first request
     * (the test model's untied embedding is only looked up: {@code PrepareProductsTest}).
     */
    @Test
    void theBasesRegroupedWeightsAreMadeBeforeTheFirstRequest(@TempDir Path tmp) throws Exception {
        try (ServerFixture f = ServerFixture.start(tmp, ServerOptions.defaults())) {
            int matrices = 0;
            WeightMatrix embed = f.pretrained.model().weights().embed();
            for (Map.Entry<String, Object> e : NamedTensors.of(f.pretrained.model().weights()).entrySet()) {
                if (e.getValue() instanceof WeightMatrix w && w != embed) {
                    assertTrue(w.hasRegroupedCopy(), e.getKey() + " is regrouped at start");
                    matrices++;
                }
            }
            assertTrue(matrices > 0, "the base has weight matrices");
        }
    }

    @Test
    void aRequestPastTheTimeoutIsStopped(@TempDir Path tmp) throws Exception {
        try (ServerFixture f = ServerFixture.start(tmp, ServerOptions.defaults()
                .withRequestTimeout(Duration.ofNanos(1)))) {
            HttpResponse<String> whole = f.post("/v1/completions", TEXT.formatted("tiny", 200, ""));
            assertEquals(504, whole.statusCode(), whole.body());
            JsonNode error = ServerFixture.json(whole.body()).get("error");
            assertEquals("request_timeout", error.get("code").asText());
            assertTrue(error.get("message").asText().contains("past the server's request timeout"), whole.body());

            HttpResponse<String> stream = f.post("/v1/chat/completions", "{\"model\": \"tiny\", \"max_tokens\": 200, "
                    + "\"stream\": true, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
            assertEquals(200, stream.statusCode());
            assertTrue(stream.body().contains("\"code\":\"request_timeout\""), stream.body());
            assertTrue(stream.body().endsWith("data: [DONE]\n\n"), stream.body());

            try (var pause = f.server.batcher().pause()) {
                HttpResponse<String> queued = f.post("/v1/completions", TEXT.formatted("tiny", 2, ""));
                assertEquals(504, queued.statusCode(), queued.body());
                assertTrue(queued.body().contains("waited for a generation"), queued.body());
            }
            assertEquals(2, sample(f.get("/metrics").body(), "tailor_requests_total", "status=\"504\""));
        }
    }

    private static HttpRequest request(ServerFixture f, String body) {
        return HttpRequest.newBuilder(URI.create(f.baseUrl() + "/v1/completions")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(10);
        }
    }

    private static double delta(String before, String after, String name, String... labels) {
        return sample(after, name, labels) - sample(before, name, labels);
    }

    /** The sum of the samples of {@code name} whose labels include {@code labels} (0 when there is none). */
    static double sample(String scrape, String name, String... labels) {
        double sum = 0;
        for (String line : scrape.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String metric = line.substring(0, brace >= 0 ? brace : space);
            String labelText = brace >= 0 ? line.substring(brace, line.lastIndexOf('}') + 1) : "";
            boolean match = metric.equals(name);
            for (String label : labels) {
                match &= labelText.contains(label);
            }
            if (match) {
                sum += Double.parseDouble(line.substring(space + 1));
            }
        }
        return sum;
    }
}
