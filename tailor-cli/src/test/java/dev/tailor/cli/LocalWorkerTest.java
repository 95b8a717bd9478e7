package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tailor serve --fine-tuning --local-worker} (SQLite): the server starts one {@code tailor worker} child at
 * niceness 10 on one kernel thread, which trains a job created through the API while the server keeps answering; the
 * serving latency with and without the job running is measured and printed; the worker stops with the server.
 */
class LocalWorkerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path tmp;
    private int port;

    private JsonNode send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), method + " " + path + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** The median time of {@code n} completions of 16 tokens, one after another, in milliseconds. */
    private double medianLatency(int n) throws Exception {
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            send("POST", "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"Call me Ishmael. Some years ago\", "
                    + "\"max_tokens\": 16, \"temperature\": 0}");
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        ms.sort(Double::compare);
        return ms.get(n / 2);
    }

    private static int niceness(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(fields[16]);
    }

    @Test
    void theLocalWorkerTrainsBesideServingAtALowerPriorityAndStopsWithTheServer() throws Exception {
        Path model = Shared.require("models/tiny-llama");
        Path log = tmp.resolve("serve.log");
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), TailorCommand.class.getName(), "serve",
                "--model", model.toString(), "--port", "0", "--state", tmp.resolve("state").toString(),
                "--served-model-name", "tiny", "--fine-tuning", "--local-worker", "--worker-threads", "1");
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().remove("TAILOR_DATABASE_URL");
        builder.environment().remove("TAILOR_ADMIN_KEY");
        Process serve = builder.start();
        try {
            Pattern serving = Pattern.compile("serving .* at http://127\\.0\\.0\\.1:(\\d+)/v1");
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            Matcher m = serving.matcher("");
            while (!m.find()) {
                assertTrue(serve.isAlive() && System.nanoTime() < deadline, "serve starts: " + Files.readString(log));
                Thread.sleep(50);
                m = serving.matcher(Files.readString(log));
            }
            port = Integer.parseInt(m.group(1));
            while (!Files.readString(log).contains("takes fine-tuning jobs")) {
                assertTrue(System.nanoTime() < deadline, "the worker starts: " + Files.readString(log));
                Thread.sleep(50);
            }
            assertTrue(Files.readString(log).contains("1 kernel threads"), Files.readString(log));
            ProcessHandle worker = serve.toHandle().children().findFirst().orElseThrow();
            assertEquals(10, niceness(worker.pid()), "the worker runs at niceness 10");
            assertEquals(0, niceness(serve.pid()));

            medianLatency(10);
            double idle = medianLatency(15);
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                data.append(JSON.writeValueAsString(Map.of("text", "Call me Ishmael. Some years ago " + i
                        + " never mind how long precisely."))).append('\n');
            }
            String boundary = "local-worker";
            HttpResponse<String> up = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/v1/files")).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                    .POST(HttpRequest.BodyPublishers.ofString("--" + boundary + "\r\nContent-Disposition: form-data; "
                            + "name=\"purpose\"\r\n\r\nfine-tune\r\n--" + boundary + "\r\nContent-Disposition: "
                            + "form-data; name=\"file\"; filename=\"moby.jsonl\"\r\n\r\n" + data + "\r\n--" + boundary
                            + "--\r\n")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, up.statusCode(), up.body());
            String job = send("POST", "/v1/fine_tuning/jobs", "{\"model\": \"tiny\", \"training_file\": \""
                    + JSON.readTree(up.body()).get("id").asText() + "\", \"suffix\": \"moby\", \"hyperparameters\": "
                    + "{\"n_epochs\": 50, \"batch_size\": 2}, \"training\": {\"seq_len\": 64}}").get("id").asText();
            while (!send("GET", "/v1/fine_tuning/jobs/" + job + "/events", null).toString().contains("Step 3/")) {
                assertTrue(System.nanoTime() < deadline, "the local worker trains the job");
                Thread.sleep(50);
            }
            double busy = medianLatency(15);
            assertEquals("running", send("GET", "/v1/fine_tuning/jobs/" + job, null).get("status").asText(),
                    "the job ran all along");
            System.out.printf("LocalWorkerTest: a 16-token completion takes %.1f ms (median) idle, %.1f ms while the "
                    + "local worker trains (1 thread, niceness 10)%n", idle, busy);
            assertTrue(busy < 3 * idle + 100, "serving is not starved: " + busy + " ms against " + idle + " ms idle");
            assertEquals("cancelled", send("POST", "/v1/fine_tuning/jobs/" + job + "/cancel", null).get("status")
                    .asText());

            serve.destroy();
            assertTrue(serve.waitFor(60, TimeUnit.SECONDS), "serve stops");
            worker.onExit().get(30, TimeUnit.SECONDS);
            assertTrue(!worker.isAlive(), "the worker stops with the server");
        } finally {
            serve.descendants().forEach(ProcessHandle::destroyForcibly);
            serve.destroyForcibly();
        }
    }
}
