package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.tailor.generate.ContinuousBatcher;
import dev.tailor.generate.Generator;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An OpenAI-compatible HTTP server (Helidon SE, a virtual thread per request) for one base model and its adapters:
 * <pre>{@code
 * try (PretrainedModel base = PretrainedModel.load(dir)) {
 *     ServedModels models = new ServedModels(base, "tiny");
 *     models.load("sql", Path.of("adapters/sql"), false);
 *     try (TailorServer server = TailorServer.start(models, ServerOptions.defaults().withPort(8000))) {
 *         server.awaitShutdown();    // or serve until close()
 *     }
 * }
 * }</pre>
 * Endpoints: {@code GET /health}, {@code GET /ready}, {@code GET /metrics}, {@code GET /v1/models[/{id}]},
 * {@code POST /v1/completions}, {@code POST /v1/chat/completions}, vLLM's {@code POST /tokenize} and
 * {@code POST /detokenize}, {@code POST /v1/load_lora_adapter},
 * {@code POST /v1/unload_lora_adapter}, and the adapter registry's {@code GET /v1/adapters},
 * {@code GET|PUT /v1/adapters/{name}}, {@code POST /v1/adapters/{name}/rollback},
 * {@code POST /v1/adapters/{name}/aliases/{alias}}, {@code POST|DELETE /v1/adapters/{name}/traffic},
 * {@code POST /v1/adapters/{name}/versions/{v}/evaluate}, {@code POST /v1/adapters/{name}/versions/{v}/pin} and
 * {@code .../unpin} (with a state directory, see {@link ServedModels}), and
 * {@code GET|POST /v1/tenants}, and those of any {@link ApiRoutes} given; with an admin key ({@link Access}) callers
 * authenticate with {@code Authorization: Bearer KEY}, a tenant sees only its own and shared adapters, its own by
 * names of its own ({@link Namespace}: two tenants may each have one of the same name), and alias moves, traffic
 * splits, evaluations and pins are the admin's. Every refusal is an OpenAI-style error body; an exception inside a
 * request is a 500 and the server keeps serving. Every request is counted in the {@link ServerMetrics} and logged as one JSON line on the
 * {@value #ACCESS_LOG} logger (method, path, model, status, duration, prompt and completion tokens).
 */
public final class TailorServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(TailorServer.class.getName());
    /** How long {@link #close()} waits for requests in flight before it stops the listener anyway. */
    public static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);
    /** The logger of the access log, one line per request. */
    public static final String ACCESS_LOG = "dev.tailor.serve.access";
    private static final System.Logger ACCESS = System.getLogger(ACCESS_LOG);

    private final ServedModels models;
    private final ServerOptions options;
    private final Access access;
    private final List<ApiRoutes> extensions;
    private final ObjectMapper json = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    private final ContinuousBatcher batcher;
    private final ServerMetrics metrics;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object stopped = new Object();
    private volatile boolean draining;
    private WebServer server;

    private TailorServer(ServedModels models, ServerOptions options, Access access,
                         List<ApiRoutes> extensions) {
        this.models = models;
        this.options = options;
        this.access = access;
        this.extensions = List.copyOf(extensions);
        this.metrics = new ServerMetrics(models);
        this.batcher = new ContinuousBatcher(models.pretrained().model(), new ContinuousBatcher.Options(
                options.maxBatch(), Generator.PREFILL_CHUNK, options.maxQueue()), metrics::step);
        metrics.watch(batcher);
    }

    /** Starts serving {@code models}; {@code GET /health} and {@code GET /ready} answer 200 once this returns. */
    public static TailorServer start(ServedModels models, ServerOptions options) {
        return start(models, options, Access.open());
    }

    /**
     * Starts serving {@code models} to the callers {@code access} lets in.
     *
     * @throws IllegalArgumentException when the host is not loopback and there is no admin key
     */
    public static TailorServer start(ServedModels models, ServerOptions options, Access access) {
        return start(models, options, access, List.of());
    }

    /**
     * As {@link #start(ServedModels, ServerOptions, Access)}, answering the endpoints of {@code extensions} too. The
     * base's regrouped weights ({@link dev.tailor.model.LlamaModel#prepareProducts}) are made first, so that the first
     * request does not wait for them.
     *
     * @throws IllegalArgumentException when the host is not loopback and there is no admin key
     */
    public static TailorServer start(ServedModels models, ServerOptions options, Access access,
                                     List<ApiRoutes> extensions) {
        access.checkBind(options.host());
        models.pretrained().model().prepareProducts();
        TailorServer s = new TailorServer(models, options, access, extensions);
        s.server = WebServer.builder()
                .host(options.host())
                .port(options.port())
                .shutdownHook(false)
                .routing(s::routes)
                .build()
                .start();
        return s;
    }

    /** The port served (the one chosen when the options asked for 0). */
    public int port() {
        return server.port();
    }

    /** The running batch every generation joins (tests pause it to fill the line). */
    ContinuousBatcher batcher() {
        return batcher;
    }

    /** What is served. */
    public ServedModels models() {
        return models;
    }

    private void routes(HttpRouting.Builder routing) {
        var completions = new CompletionsEndpoint(CompletionsEndpoint.Kind.TEXT, models, batcher, json, options,
                metrics);
        var chat = new CompletionsEndpoint(CompletionsEndpoint.Kind.CHAT, models, batcher, json, options, metrics);
        var uploads = new AdapterUpload(models, json, options.maxBodyBytes());
        var tokenizer = new TokenizeEndpoint(models);
        routing.addFilter(this::observe)
                .addFilter(this::authenticate)
                .get("/health", (req, res) -> res.send("ok"))
                .register(new AdminPage())
                .get("/ready", (req, res) -> {
                    if (draining) {
                        res.status(Status.SERVICE_UNAVAILABLE_503).send("shutting down");
                    } else {
                        res.send("ready");
                    }
                })
                .get("/metrics", (req, res) -> {
                    if (!Caller.current().admin()) {
                        fail(res, adminOnly("the metrics"));
                        return;
                    }
                    res.header(HeaderNames.CONTENT_TYPE, ServerMetrics.CONTENT_TYPE);
                    res.send(metrics.scrape());
                })
                .get("/v1/models", (req, res) -> guarded(res, () ->
                        sendJson(res, new ModelCard.ModelList("list", models.cards(Caller.current())))))
                .get("/v1/models/*", (req, res) -> guarded(res, () -> sendJson(res, models.card(
                        req.path().path().substring("/v1/models/".length()), Caller.current()))))
                .post("/v1/completions", (req, res) -> guarded(res, () -> completions.handle(body(req), res)))
                .post("/v1/chat/completions", (req, res) -> guarded(res, () -> chat.handle(body(req), res)))
                .post("/tokenize", (req, res) -> guarded(res, () -> sendJson(res, tokenizer.tokenize(body(req)))))
                .post("/detokenize", (req, res) -> guarded(res, () ->
                        sendJson(res, tokenizer.detokenize(body(req)))))
                .post("/v1/load_lora_adapter", (req, res) -> guarded(res, () -> {
                    requireAdmin("loading adapters");
                    load(body(req), res);
                }))
                .post("/v1/unload_lora_adapter", (req, res) -> guarded(res, () -> {
                    requireAdmin("unloading adapters");
                    unload(body(req), res);
                }))
                .get("/v1/adapters", (req, res) -> guarded(res, () ->
                        sendJson(res, new AdapterInfo.AdapterList("list", models.registered(Caller.current())))))
                .get("/v1/adapters/{name}", (req, res) -> guarded(res, () ->
                        sendJson(res, models.registered(name(req), Caller.current()))))
                .put("/v1/adapters/{name}", (req, res) -> guarded(res, () -> {
                    if (AdapterUpload.isUpload(req)) {
                        uploads.receive(req, (fields, dir) -> register(name(req), fields, dir, res));
                    } else {
                        register(name(req), body(req), null, res);
                    }
                }))
                .post("/v1/adapters/{name}/rollback", (req, res) -> guarded(res, () ->
                        rollback(name(req), optionalBody(req), res)))
                .post("/v1/adapters/{name}/aliases/{alias}", (req, res) -> guarded(res, () ->
                        moveAlias(name(req), req.path().pathParameters().get("alias"), body(req), res)))
                .post("/v1/adapters/{name}/traffic", (req, res) -> guarded(res, () ->
                        split(name(req), body(req), false, res)))
                .delete("/v1/adapters/{name}/traffic", (req, res) -> guarded(res, () ->
                        split(name(req), optionalBody(req), true, res)))
                .post("/v1/adapters/{name}/versions/{version}/evaluate", (req, res) -> guarded(res, () ->
                        evaluate(name(req), req.path().pathParameters().get("version"), body(req), res)))
                .post("/v1/adapters/{name}/versions/{version}/pin", (req, res) -> guarded(res, () ->
                        pin(name(req), req.path().pathParameters().get("version"), true, res)))
                .post("/v1/adapters/{name}/versions/{version}/unpin", (req, res) -> guarded(res, () ->
                        pin(name(req), req.path().pathParameters().get("version"), false, res)))
                .post("/v1/tenants", (req, res) -> guarded(res, () -> createTenant(body(req), res)))
                .get("/v1/tenants", (req, res) -> guarded(res, () -> {
                    requireAdmin("listing tenants");
                    sendJson(res, new TenantList("list", models.tenants()));
                }));
        extensions.forEach(e -> e.register(new ExtensionRoutes(routing)));
        // last: any other method and path gets OpenAI's answer to an unknown URL, in its error body
        routing.any((req, res) -> guarded(res, () -> {
            throw new ApiException(404, "invalid_request_error", "unknown_url", null, "Invalid URL ("
                    + req.prologue().method().text() + " " + req.path().path() + ")");
        }));
    }

    /** Mounts an {@link ApiRoutes}' endpoints, each run as the server's own. */
    private final class ExtensionRoutes implements ApiRoutes.Routes {
        private final HttpRouting.Builder routing;

        ExtensionRoutes(HttpRouting.Builder routing) {
            this.routing = routing;
        }

        private Handler handler(ApiRoutes.Handler h) {
            return (req, res) -> guarded(res, () ->
                    sendJson(res, h.handle(new ApiRequest(req, TailorServer.this::body))));
        }

        @Override
        public ApiRoutes.Routes get(String path, ApiRoutes.Handler h) {
            routing.get(path, handler(h));
            return this;
        }

        @Override
        public ApiRoutes.Routes post(String path, ApiRoutes.Handler h) {
            routing.post(path, handler(h));
            return this;
        }

        @Override
        public ApiRoutes.Routes delete(String path, ApiRoutes.Handler h) {
            routing.delete(path, handler(h));
            return this;
        }
    }

    /** What {@code POST /v1/tenants} answers: the new tenant and its key, which is never shown again. */
    private record NewTenant(String name, String apiKey) {
    }

    /** What {@code GET /v1/tenants} answers. */
    private record TenantList(String object, java.util.List<String> data) {
    }

    private void createTenant(RequestBody body, ServerResponse res) throws IOException {
        requireAdmin("creating tenants");
        String name = body.requiredString("name");
        String key = models.createTenant(name);
        LOG.info(() -> "created tenant '" + name + "'");
        sendJson(res, new NewTenant(name, key));
    }

    private static void requireAdmin(String what) {
        if (!Caller.current().admin()) {
            throw adminOnly(what);
        }
    }

    private static ApiException adminOnly(String what) {
        return ApiException.forbidden(null, "only the admin key allows " + what);
    }

    /**
     * After {@link #observe}: with an admin key, lets a request on (but {@code /health}, {@code /ready} and the
     * {@link AdminPage}, which holds no data) only with
     * {@code Authorization: Bearer KEY} of the admin or a tenant, bound as its {@link Caller}; 401 otherwise. Without
     * one, every caller is the admin.
     */
    private void authenticate(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String path = req.path().path();
        if (!access.keyed() || path.equals("/health") || path.equals("/ready") || AdminPage.serves(path)) {
            ScopedValue.where(Caller.CURRENT, Caller.ADMIN).run(chain::proceed);
            return;
        }
        String header = req.headers().first(HeaderNames.AUTHORIZATION).orElse(null);
        Caller caller = null;
        String problem;
        if (header == null) {
            problem = "no API key: send Authorization: Bearer KEY";
        } else if (!header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
            problem = "the Authorization header must be Bearer KEY";
        } else {
            String key = header.substring(7).trim();
            if (access.isAdmin(key)) {
                caller = Caller.ADMIN;
            } else {
                String tenant = models.tenantOf(key);
                caller = tenant == null ? null : new Caller(tenant);
            }
            problem = "the API key is not valid";
        }
        if (caller == null) {
            res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
            fail(res, ApiException.unauthorized(problem));
            return;
        }
        ScopedValue.where(Caller.CURRENT, caller).run(chain::proceed);
    }

    /** The body, or an empty object when the request has none. */
    private RequestBody optionalBody(ServerRequest req) throws IOException {
        return req.content().hasEntity() ? body(req) : RequestBody.parse(json, "{}".getBytes(StandardCharsets.UTF_8));
    }

    /** What an alias move answers. */
    private record AliasMoved(String name, String alias, int version) {
    }

    private void moveAlias(String name, String alias, RequestBody body, ServerResponse res) throws IOException {
        requireAdmin("moving an alias");
        Integer version = body.integer("version", null);
        if (version == null) {
            throw ApiException.badRequest("version", "'version' is required");
        }
        models.moveAlias(name, alias, version, body.integer("expected_version", null),
                body.bool("require_no_worse", false));
        LOG.info(() -> "moved alias '" + alias + "' of adapter '" + name + "' to version " + version);
        sendJson(res, new AliasMoved(name, alias, version));
    }

    /** What a traffic change answers. */
    private record Traffic(String name, TrafficSplit traffic) {
    }

    private void split(String name, RequestBody body, boolean clear, ServerResponse res) throws IOException {
        requireAdmin("splitting traffic");
        Map<Integer, Double> weights = new TreeMap<>();
        if (!clear) {
            JsonNode versions = body.node("versions");
            if (versions == null || !versions.isObject()) {
                throw versions == null ? ApiException.badRequest("versions", "'versions' is required: "
                        + "{\"VERSION\": WEIGHT, …}, or {} to clear the split")
                        : RequestBody.wrongType("versions", "an object {\"VERSION\": WEIGHT, …}", versions);
            }
            for (Map.Entry<String, JsonNode> e : versions.properties()) {
                int v;
                try {
                    v = Integer.parseInt(e.getKey().trim());
                } catch (NumberFormatException x) {
                    throw ApiException.badRequest("versions", "'versions' keys are version numbers, got '"
                            + e.getKey() + "'");
                }
                if (!e.getValue().isNumber()) {
                    throw RequestBody.wrongType("versions", "an object of numbers", versions);
                }
                weights.put(v, e.getValue().asDouble());
            }
        }
        TrafficSplit now = models.split(name, weights, body.integer("expected_version", null));
        LOG.info(() -> "traffic of adapter '" + name + "' is now " + (now.active() ? now.versions() : "prod only"));
        sendJson(res, new Traffic(name, now));
    }

    private void evaluate(String name, String version, RequestBody body, ServerResponse res) throws IOException {
        requireAdmin("evaluating a version");
        int v = versionNumber(version);
        Evaluation e = models.evaluate(name, v, body.requiredPath("data"),
                body.integer("max_examples", null));
        LOG.info(() -> "evaluated adapter '" + name + "' version " + v + " on " + e.data() + ": loss " + e.loss());
        sendJson(res, e);
    }

    private static int versionNumber(String version) {
        try {
            return Integer.parseInt(version);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("version", "the version must be a number, got '" + version + "'");
        }
    }

    /** What a pin or unpin answers. */
    private record Pinned(String name, int version, boolean pinned, boolean loaded) {
    }

    private void pin(String name, String version, boolean pin, ServerResponse res) throws IOException {
        requireAdmin(pin ? "pinning a version" : "unpinning a version");
        int v = versionNumber(version);
        AdapterVersion now = models.pin(name, v, pin);
        LOG.info(() -> (pin ? "pinned" : "unpinned") + " adapter '" + name + "' version " + v);
        sendJson(res, new Pinned(name, v, now.pinned(), now.loaded()));
    }

    /** Registers the adapter in {@code body}'s {@code path}, or in {@code uploaded} (an unpacked upload) if not null. */
    private void register(String name, RequestBody body, Path uploaded, ServerResponse res) throws IOException {
        Path given = uploaded == null ? body.requiredPath("path") : null;
        Caller caller = Caller.current();
        String tenant = body.string("tenant");
        boolean shared = body.bool("shared", false);
        if (tenant != null && shared) {
            throw ApiException.badRequest("shared", "an adapter is either a tenant's or shared, not both");
        }
        Ownership owner = tenant != null ? new Ownership(tenant, false) : shared ? Ownership.SHARED : null;
        Path dir = uploaded != null ? uploaded
                : caller.admin() || owner != null ? given : access.tenantPath(given);
        ServedModels.Residency residency = body.bool("pin", false) ? ServedModels.Residency.PINNED
                : body.bool("preload", false) ? ServedModels.Residency.PRELOADED : ServedModels.Residency.LAZY;
        Registration done = models.register(name, dir, body.bool("promote", true),
                body.integer("expected_version", null), body.bool("require_no_worse", false), caller, owner,
                residency);
        String key = models.key(done.name(), caller);
        LOG.info(() -> "registered adapter '" + key + "' version " + done.version() + " from "
                + (given != null ? given : "an upload"));
        sendJson(res, done);
    }

    private void rollback(String name, RequestBody body, ServerResponse res) throws IOException {
        Caller caller = Caller.current();
        int version = models.rollback(name, body.integer("expected_version", null), caller);
        String key = models.key(name, caller);
        LOG.info(() -> "rolled adapter '" + key + "' prod back to version " + version);
        sendJson(res, new Registration(name, version));
    }

    private static String name(ServerRequest req) {
        return req.path().pathParameters().get("name");
    }

    /**
     * Around every request: binds its {@link AccessRecord}, then counts it in the metrics ({@code endpoint} is the
     * route's pattern, or {@code unmatched}) and writes its access-log line.
     */
    private void observe(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        AccessRecord record = new AccessRecord(System.nanoTime());
        try {
            ScopedValue.where(AccessRecord.CURRENT, record).run(chain::proceed);
        } finally {
            long nanos = System.nanoTime() - record.arrival();
            int status = res.status().code();
            metrics.request(req.matchingPattern().orElse("unmatched"), record.model(), status, nanos);
            if (ACCESS.isLoggable(System.Logger.Level.INFO)) {
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("method", req.prologue().method().text());
                line.put("path", req.path().path());
                line.put("model", record.model());
                line.put("status", status);
                line.put("duration_ms", Math.round(nanos / 1e4) / 100.0);
                line.put("prompt_tokens", record.promptTokens());
                line.put("completion_tokens", record.completionTokens());
                try {
                    ACCESS.log(System.Logger.Level.INFO, json.writeValueAsString(line));
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "cannot write an access-log line", e);
                }
            }
        }
    }

    private void load(RequestBody body, ServerResponse res) {
        String name = body.requiredString("lora_name");
        Path path = body.requiredPath("lora_path");
        models.load(name, path, body.bool("load_inplace", false));
        LOG.info(() -> "loaded adapter '" + name + "' from " + path);
        res.send("Success: LoRA adapter '" + name + "' added successfully.");
    }

    private void unload(RequestBody body, ServerResponse res) {
        String name = body.requiredString("lora_name");
        models.unload(name);
        LOG.info(() -> "unloaded adapter '" + name + "'");
        res.send("Success: LoRA adapter '" + name + "' removed successfully.");
    }

    /** The request body as JSON, refused (413) past {@link ServerOptions#maxBodyBytes()}. */
    private RequestBody body(ServerRequest req) throws IOException {
        long max = options.maxBodyBytes();
        long declared = req.headers().contentLength().orElse(-1);
        if (declared > max) {
            throw tooLarge(declared + " bytes");
        }
        try (InputStream in = req.content().inputStream()) {
            byte[] bytes = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 8));
            if (bytes.length > max) {
                throw tooLarge("more than " + max + " bytes");
            }
            return RequestBody.parse(json, bytes);
        }
    }

    private ApiException tooLarge(String size) {
        return ApiException.tooLarge(size, options.maxBodyBytes());
    }

    /** A step of a handler that may throw. */
    private interface Step {
        void run() throws IOException;
    }

    /**
     * Runs a handler, counting it in flight; answers 503 while draining, an {@link ApiException} with its status and
     * any other failure with 500 (logged), so no request can take the server down.
     */
    private void guarded(ServerResponse res, Step step) {
        inFlight.incrementAndGet();
        try {
            if (draining) {
                throw new ApiException(503, "server_error", "shutting_down", null, "the server is shutting down");
            }
            step.run();
        } catch (ApiException e) {
            fail(res, e);
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            LOG.log(Level.WARNING, "request failed", e);
            fail(res, ApiException.internal("the request", e));
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private void fail(ServerResponse res, ApiException e) {
        if (res.isSent()) {
            return;
        }
        try {
            res.status(e.status());
            if (e.retryAfterSeconds() > 0) {
                res.header(HeaderNames.RETRY_AFTER, Integer.toString(e.retryAfterSeconds()));
            }
            sendJson(res, e.body());
        } catch (IOException | RuntimeException ignored) {
            // the response had already begun: the client sees the stream end
        }
    }

    private void sendJson(ServerResponse res, Object body) throws IOException {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(json.writeValueAsBytes(body));
    }

    /** Blocks until {@link #close()} has stopped the server. */
    public void awaitShutdown() throws InterruptedException {
        synchronized (stopped) {
            while (server.isRunning()) {
                stopped.wait(1000);
            }
        }
    }

    /**
     * Stops taking requests (new ones are answered 503, and {@code GET /ready} too), lets those in flight finish (streams included) for up to
     * {@link #DRAIN_TIMEOUT}, then stops the listener.
     */
    @Override
    public void close() {
        draining = true;
        long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        server.stop();
        batcher.close();
        synchronized (stopped) {
            stopped.notifyAll();
        }
    }
}
