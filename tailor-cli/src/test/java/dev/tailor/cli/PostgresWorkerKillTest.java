package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.PostgresSchema;
import dev.tailor.Shared;
import dev.tailor.model.PretrainedModel;
import dev.tailor.serve.Access;
import dev.tailor.serve.ServedModels;
import dev.tailor.serve.ServerOptions;
import dev.tailor.serve.TailorServer;
import dev.tailor.serve.jobs.FineTuningApi;
import dev.tailor.serve.jobs.Job;
import dev.tailor.serve.jobs.JobLimits;
import dev.tailor.serve.jobs.JobStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two {@code tailor worker} processes on one PostgreSQL registry ({@code TAILOR_TEST_POSTGRES_URL}, a fresh schema)
 * and one state directory, with a server taking the jobs: the worker training a job is killed with {@code kill -9}
 * after its first checkpoints; the other takes the job over once the lease has run out, resumes from the last
 * checkpoint, and the job ends exactly as its twin (the same data and settings, another tenant) that nobody killed:
 * every step's loss the same, each step told once, the same adapter bytes. The twin runs on the other worker at the
 * same time, so no job is ever run by two workers at once.
 */
class PostgresWorkerKillTest {
    private static final String ADMIN = "kill-admin-key";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path tmp;
    private int port;

    /** A {@code tailor worker} process with a lease of 2 s, its log in {@code tmp}. */
    private Process worker(String id, Path model, Path state, String database) throws Exception {
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), TailorCommand.class.getName(), "worker",
                "--model", model.toString(), "--state", state.toString(), "--id", id, "--lease", "2", "--poll", "0.1",
                "--threads", "1");
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve(id + ".log").toFile());
        builder.environment().put("TAILOR_DATABASE_URL", database);
        return builder.start();
    }

    private JsonNode send(String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), method + " " + path + ": " + r.body());
        return JSON.readTree(r.body());
    }

    private String upload(String content, String key) throws Exception {
        String boundary = "tailor-kill-test";
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n--"
                + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.jsonl\"\r\n\r\n"
                + content + "\r\n--" + boundary + "--\r\n";
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/files"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
        HttpResponse<String> r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("id").asText();
    }

    /** Every event of job {@code id}, oldest first. */
    private List<JsonNode> events(String id, String key) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        send("GET", "/v1/fine_tuning/jobs/" + id + "/events?limit=1000", null, key).get("data").forEach(events::add);
        return events.reversed();
    }

    /** The training losses of job {@code id}'s steps, in order, each step's once. */
    private List<Double> losses(String id, String key) throws Exception {
        List<Double> losses = new ArrayList<>();
        for (JsonNode e : events(id, key)) {
            if (e.at("/data/train_loss").isNumber()) {
                assertEquals(losses.size() + 1, e.at("/data/step").asInt(), "steps in order, each once: " + id);
                losses.add(e.at("/data/train_loss").asDouble());
            }
        }
        return losses;
    }

    private JsonNode await(String id, String key, String status, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            JsonNode job = send("GET", "/v1/fine_tuning/jobs/" + id, null, key);
            if (job.get("status").asText().equals(status)) {
                return job;
            }
            assertTrue(System.nanoTime() < deadline, id + " is not " + status + " within " + within + ": " + job);
            Thread.sleep(50);
        }
    }

    @Test
    void aJobWhoseWorkerIsKilledIsTakenOverAndEndsExactlyAsIfNobodyHadBeen() throws Exception {
        try (PostgresSchema schema = PostgresSchema.create()) {
            Path model = Files.createDirectories(tmp.resolve("tiny"));
            try (var files = Files.list(Shared.require("models/tiny-llama"))) {
                for (Path f : files.toList()) {
                    Files.copy(f, model.resolve(f.getFileName()));
                }
            }
            Path state = tmp.resolve("state");
            try (PretrainedModel pretrained = PretrainedModel.load(model);
                 ServedModels served = new ServedModels(pretrained, "tiny", state, schema.url(),
                         ServedModels.DEFAULT_ADAPTER_CACHE_BYTES);
                 JobStore store = JobStore.open(schema.url());
                 FineTuningApi api = new FineTuningApi(served, store, state, JobLimits.defaults())) {
                TailorServer server = TailorServer.start(served, ServerOptions.defaults(),
                        new Access(ADMIN, List.of()), List.of(api));
                port = server.port();
                Process a = worker("a", model, state, schema.url());
                Process b = worker("b", model, state, schema.url());
                try {
                    run(store, a, b);
                } finally {
                    for (Process p : List.of(a, b)) {
                        p.destroy();
                        if (!p.waitFor(30, TimeUnit.SECONDS)) {
                            p.destroyForcibly();
                        }
                    }
                    server.close();
                }
            }
        }
    }

    private void run(JobStore store, Process a, Process b) throws Exception {
        String acme = send("POST", "/v1/tenants", "{\"name\": \"acme\"}", ADMIN).get("api_key").asText();
        String globex = send("POST", "/v1/tenants", "{\"name\": \"globex\"}", ADMIN).get("api_key").asText();
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            data.append(JSON.writeValueAsString(Map.of("prompt", "Customer: where is order " + i + "?\nAgent:",
                    "completion", " Order " + i + " ships today."))).append('\n');
        }
        String spec = "\"model\": \"tiny\", \"seed\": 3, \"hyperparameters\": {\"n_epochs\": 5, "
                + "\"batch_size\": 2, \"learning_rate_multiplier\": 20}, \"training\": {\"seq_len\": 64, "
                + "\"checkpoint_every\": 5}";
        String killed = send("POST", "/v1/fine_tuning/jobs", "{\"training_file\": \"" + upload(data.toString(), acme)
                + "\", \"suffix\": \"orders\", " + spec + "}", acme).get("id").asText();
        String twin = send("POST", "/v1/fine_tuning/jobs", "{\"training_file\": \"" + upload(data.toString(), globex)
                + "\", \"suffix\": \"twin\", " + spec + "}", globex).get("id").asText();

        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        int lastStep = 0;
        while (lastStep < 8) {
            assertTrue(System.nanoTime() < deadline, "the job's worker passes its first checkpoints");
            for (JsonNode e : events(killed, acme)) {
                lastStep = Math.max(lastStep, e.at("/data/step").asInt());
            }
            Thread.sleep(10);
        }
        Job running = store.job(killed);
        Process victim = running.worker().equals("a") ? a : b;
        String survivor = running.worker().equals("a") ? "b" : "a";
        assertEquals(1, running.attempt());
        victim.destroyForcibly();
        long killedAt = System.nanoTime();
        assertTrue(victim.waitFor(10, TimeUnit.SECONDS));
        assertEquals(137, victim.exitValue(), "killed by SIGKILL");
        while (store.job(killed).attempt() < 2) {
            assertTrue(System.nanoTime() < deadline, "the survivor takes the job over");
            Thread.sleep(20);
        }
        double takeover = (System.nanoTime() - killedAt) / 1e9;

        JsonNode done = await(killed, acme, "succeeded", Duration.ofSeconds(180));
        JsonNode twinDone = await(twin, globex, "succeeded", Duration.ofSeconds(180));
        Job after = store.job(killed);
        assertEquals(survivor, after.worker());
        assertEquals(2, after.attempt(), "claimed twice: by the killed worker, then the survivor");
        assertEquals(survivor, store.job(twin).worker(), "the twin ran on the survivor");
        assertEquals(1, store.job(twin).attempt());

        List<JsonNode> events = events(killed, acme);
        JsonNode resumed = events.stream().filter(e -> e.get("message").asText().startsWith("Resumed from the "
                + "checkpoint of step")).findFirst().orElseThrow();
        long resumedAt = resumed.at("/data/step").asLong();
        long total = resumed.at("/data/total_steps").asLong();
        assertEquals(40, total);
        assertTrue(resumedAt >= 5 && resumedAt % 5 == 0 && resumedAt < total, "resumed from a checkpoint: "
                + resumedAt);
        assertTrue(events.stream().anyMatch(e -> e.get("message").asText().equals("Worker " + survivor
                + " took the job over (attempt 2)")));
        List<Double> losses = losses(killed, acme);
        assertEquals(total, losses.size(), "every step told once");
        assertEquals(losses(twin, globex), losses, "every step's loss as the twin's, bit for bit");
        assertEquals(done.get("trained_tokens").asLong(), twinDone.get("trained_tokens").asLong());

        JsonNode mine = send("GET", "/v1/adapters/orders", null, acme);
        assertEquals(1, mine.get("versions").size(), "registered once");
        assertEquals(mine.at("/versions/0/sha256").asText(), send("GET", "/v1/adapters/twin", null, globex)
                .at("/versions/0/sha256").asText(), "the killed job's adapter and its twin's are the same files");
        JsonNode chat = send("POST", "/v1/completions", "{\"model\": \"" + done.get("fine_tuned_model").asText()
                + "\", \"prompt\": \"Customer: where is order 7?\\nAgent:\", \"max_tokens\": 6, \"temperature\": 0}",
                acme);
        JsonNode base = send("POST", "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"Customer: where is "
                + "order 7?\\nAgent:\", \"max_tokens\": 6, \"temperature\": 0}", acme);
        assertNotEquals(base.at("/choices/0/text").asText(), chat.at("/choices/0/text").asText());
        System.out.printf("PostgresWorkerKillTest: worker %s killed after step %d of %d; %s took the job over %.1f s "
                + "later (lease 2 s, after finishing the twin) and resumed from step %d%n", running.worker(),
                lastStep, total, survivor, takeover, resumedAt);
    }
}
