package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.adapt.lora.LoraLayer;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.generate.GenerationResult;
import dev.tailor.generate.Generator;
import dev.tailor.generate.SamplingParams;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;
import dev.tailor.tensor.Parameter;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared tiny Llama served on an ephemeral loopback port as {@code "tiny"}, with a chat template added, and two
 * LoRA adapters {@code a} and {@code b} made here (B perturbed so they change the output) and saved with the base's
 * fingerprint; plus a raw HTTP client and the engine's own greedy generation to compare with.
 */
final class ServerFixture implements AutoCloseable {
    static final String BASE = "tiny";
    static final String CHAT_TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
            + "{% if add_generation_prompt %}<|assistant|>{% endif %}";
    private static final ObjectMapper JSON = new ObjectMapper();

    final Path modelDir;
    final Path adapterA;
    final Path adapterB;
    final PretrainedModel pretrained;
    final TailorServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ServerFixture(Path modelDir, Path adapterA, Path adapterB, PretrainedModel pretrained,
                          TailorServer server) {
        this.modelDir = modelDir;
        this.adapterA = adapterA;
        this.adapterB = adapterB;
        this.pretrained = pretrained;
        this.server = server;
    }

    /**
     * The shared tiny Llama; skipped when the shared folder is absent, except under {@code CI=true}, where its absence
     * fails the test.
     */
    static Path tinyLlama() {
        if ("true".equals(System.getenv("CI"))) {
            Path root = Shared.root();
            assertTrue(root != null && Files.isDirectory(root.resolve("models/tiny-llama")),
                    "CI runs need shared/models/tiny-llama beside the checkout (or -Dtailor.shared)");
            return root.resolve("models/tiny-llama");
        }
        return Shared.require("models/tiny-llama");
    }

    /** Starts the server on a copy of the tiny Llama (a chat template added) with adapters a and b. */
    static ServerFixture start(Path tmp, ServerOptions options) throws IOException {
        return start(tmp, options, null);
    }

    /** As {@link #start(Path, ServerOptions)}, with the adapter registry in {@code state} (or none when null). */
    static ServerFixture start(Path tmp, ServerOptions options, Path state) throws IOException {
        return start(tmp, options, state, Access.open());
    }

    /** As {@link #start(Path, ServerOptions, Path)}, letting in the callers {@code access} allows. */
    static ServerFixture start(Path tmp, ServerOptions options, Path state, Access access) throws IOException {
        return start(tmp, options, state, access, ServedModels.DEFAULT_ADAPTER_CACHE_BYTES);
    }

    /** As {@link #start(Path, ServerOptions, Path, Access)}, with an adapter cache of {@code cacheBytes}. */
    static ServerFixture start(Path tmp, ServerOptions options, Path state, Access access, long cacheBytes)
            throws IOException {
        return start(tmp, options, state, null, access, cacheBytes);
    }

    /**
     * As {@link #start(Path, ServerOptions, Path, Access, long)}, with the registry's metadata in the database at JDBC
     * URL {@code database} (SQLite in {@code state} when null).
     */
    static ServerFixture start(Path tmp, ServerOptions options, Path state, String database, Access access,
                               long cacheBytes) throws IOException {
        Path shared = tinyLlama();
        Path model = Files.createDirectories(tmp.resolve("tiny"));
        try (var files = Files.list(shared)) {
            for (Path f : files.toList()) {
                Files.copy(f, model.resolve(f.getFileName()));
            }
        }
        Files.writeString(model.resolve("chat_template.jinja"), CHAT_TEMPLATE);
        String fingerprint = BaseFingerprint.compute(model);
        PretrainedModel pretrained = PretrainedModel.load(model);
        Path a = saveLora(pretrained, tmp.resolve("a"), List.of("q_proj", "v_proj"), 1, fingerprint);
        Path b = saveLora(pretrained, tmp.resolve("b"), List.of("all-linear"), 2, fingerprint);
        ServedModels models = new ServedModels(pretrained, BASE, state, database, cacheBytes);
        models.load("a", a, false);
        models.load("b", b, false);
        return new ServerFixture(model, a, b, pretrained, TailorServer.start(models, options, access));
    }

    /** A LoRA adapter on {@code targets} whose B is random enough to change the greedy text, saved in {@code dir}. */
    static Path saveLora(PretrainedModel base, Path dir, List<String> targets, long seed, String fingerprint) {
        LoraModel m = LoraModel.create(new LoraConfig(4, 8, 0, targets, false, null), base.model().config(), seed);
        SplittableRandom rnd = new SplittableRandom(seed + 1000);
        for (LoraLayer layer : m.modules().values()) {
            Parameter b = layer.parameters().get(1);
            for (int i = 0; i < b.size(); i++) {
                b.data()[i] = (float) rnd.nextDouble(-0.5, 0.5);
            }
        }
        m.save(dir, BASE, fingerprint);
        return dir;
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.port();
    }

    /** POSTs {@code body} to {@code path}. */
    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** PUTs {@code body} to {@code path}. */
    HttpResponse<String> put(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GETs {@code path}. */
    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(30)).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends {@code method} {@code path} with {@code body} (or none when null) and, when not null, a bearer key. */
    HttpResponse<String> send(String method, String path, String body, String key)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(String body) throws IOException {
        return JSON.readTree(body);
    }

    /** What the engine generates greedily for {@code prompt} on {@code model}, as {@code tailor generate} does. */
    GenerationResult greedy(LlamaModel model, String prompt, int maxTokens) {
        return new Generator(model, pretrained.tokenizer(), pretrained.eosIds()).generate().prompt(prompt)
                .maxTokens(maxTokens).sampling(SamplingParams.GREEDY).run();
    }

    /** The engine's greedy text for a chat of one user message. */
    GenerationResult greedyChat(LlamaModel model, String user, int maxTokens) {
        String rendered = pretrained.chatTemplate().render(
                List.of(new dev.tailor.tokenizer.ChatMessage("user", user)), true, java.util.Map.of());
        return new Generator(model, pretrained.tokenizer(), pretrained.eosIds()).generate()
                .promptIds(pretrained.tokenizer().encode(rendered, false))
                .maxTokens(maxTokens).sampling(SamplingParams.GREEDY).run();
    }

    @Override
    public void close() {
        server.close();
        server.models().close();
        pretrained.close();
    }
}
