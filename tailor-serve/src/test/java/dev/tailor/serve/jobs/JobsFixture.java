package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.serve.Access;
import dev.tailor.serve.ServedModels;
import dev.tailor.serve.ServerOptions;
import dev.tailor.serve.TailorServer;
import dev.tailor.model.PretrainedModel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server with fine-tuning on a copy of the shared tiny Llama (a chat template added), served as {@code "tiny"} with
 * an admin key and a registry in {@code state} (SQLite, or the PostgreSQL database given), and a {@link Worker} of its
 * own on the same registry and state directory, as a worker process would have; plus an HTTP client.
 */
final class JobsFixture implements AutoCloseable {
    static final String ADMIN = "jobs-admin-key";
    static final String BASE = "tiny";
    static final String CHAT_TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
            + "{% if add_generation_prompt %}<|assistant|>{% endif %}";
    private static final ObjectMapper JSON = new ObjectMapper();

    final Path state;
    final PretrainedModel pretrained;
    final ServedModels served;
    final JobStore serverStore;
    final FineTuningApi api;
    final TailorServer server;
    final ServedModels workerModels;
    final JobStore workerStore;
    final Worker worker;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private JobsFixture(Path state, PretrainedModel pretrained, ServedModels served, JobStore serverStore,
                        FineTuningApi api, TailorServer server, ServedModels workerModels, JobStore workerStore,
                        Worker worker) {
        this.state = state;
        this.pretrained = pretrained;
        this.served = served;
        this.serverStore = serverStore;
        this.api = api;
        this.server = server;
        this.workerModels = workerModels;
        this.workerStore = workerStore;
        this.worker = worker;
    }

    /** A copy of the shared tiny Llama with a chat template, in {@code dir}. */
    static Path tinyLlama(Path dir) throws IOException {
        Path shared = Shared.require("models/tiny-llama");
        Files.createDirectories(dir);
        try (var files = Files.list(shared)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.writeString(dir.resolve("chat_template.jinja"), CHAT_TEMPLATE);
        return dir;
    }

    /** Starts it in {@code tmp}, the registry in {@code database} (SQLite in the state directory when null). */
    static JobsFixture start(Path tmp, String database, JobLimits limits) throws IOException {
        Path model = tinyLlama(tmp.resolve("tiny"));
        Path state = tmp.resolve("state");
        PretrainedModel pretrained = PretrainedModel.load(model);
        ServedModels served = new ServedModels(pretrained, BASE, state, database,
                ServedModels.DEFAULT_ADAPTER_CACHE_BYTES);
        String url = database != null ? database : JobStore.sqliteUrl(state);
        JobStore serverStore = JobStore.open(url);
        FineTuningApi api = new FineTuningApi(served, serverStore, state, limits);
        TailorServer server = TailorServer.start(served, ServerOptions.defaults(), new Access(ADMIN, List.of()),
                List.of(api));
        ServedModels workerModels = new ServedModels(pretrained, BASE, state, database,
                ServedModels.DEFAULT_ADAPTER_CACHE_BYTES);
        JobStore workerStore = JobStore.open(url);
        Worker worker = new Worker(workerStore, workerModels, state, new Worker.Options("test-worker",
                Duration.ofSeconds(30), Duration.ofMillis(50)));
        return new JobsFixture(state, pretrained, served, serverStore, api, server, workerModels, workerStore, worker);
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    /** Sends {@code method path} with a JSON {@code body} (none when null) and {@code key}. */
    HttpResponse<String> send(String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + key)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends and answers the body, failing unless the status is 200. */
    JsonNode ok(String method, String path, String body, String key) throws Exception {
        HttpResponse<String> r = send(method, path, body, key);
        assertEquals(200, r.statusCode(), method + " " + path + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** Uploads {@code lines} as {@code filename} with {@code purpose}, as OpenAI's clients do. */
    HttpResponse<String> upload(String filename, String content, String purpose, String key) throws Exception {
        String boundary = "----tailor" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose
                + "\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename
                + "\"\r\nContent-Type: application/jsonl\r\n\r\n";
        body.write(head.getBytes(StandardCharsets.UTF_8));
        body.write(content.getBytes(StandardCharsets.UTF_8));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest req = HttpRequest.newBuilder(URI.create(url("/v1/files"))).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** Uploads and answers the file's id, failing unless it is stored. */
    String file(String filename, String content, String key) throws Exception {
        HttpResponse<String> r = upload(filename, content, "fine-tune", key);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("id").asText();
    }

    /** Creates tenant {@code name} and answers its key. */
    String tenant(String name) throws Exception {
        return ok("POST", "/v1/tenants", "{\"name\": \"" + name + "\"}", ADMIN).get("api_key").asText();
    }

    /** Waits (10 s at most) until job {@code id} has left {@code validating_files}; answers it. */
    JsonNode validated(String id, String key) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            JsonNode job = ok("GET", "/v1/fine_tuning/jobs/" + id, null, key);
            if (!job.get("status").asText().equals("validating_files")) {
                return job;
            }
            assertTrue(System.nanoTime() < deadline, "job " + id + " is still validating its files");
            Thread.sleep(20);
        }
    }

    /** The greedy text of a chat completion of {@code model} for {@code key}. */
    String chat(String model, String user, String key) throws Exception {
        JsonNode r = ok("POST", "/v1/chat/completions", "{\"model\": \"" + model + "\", \"messages\": [{\"role\": "
                + "\"user\", \"content\": \"" + user + "\"}], \"max_tokens\": 8, \"temperature\": 0}", key);
        return r.at("/choices/0/message/content").asText();
    }

    @Override
    public void close() {
        worker.close();
        server.close();
        api.close();
        serverStore.close();
        workerStore.close();
        served.close();
        workerModels.close();
        pretrained.close();
    }
}
