package dev.tailor.cli;

import dev.tailor.model.PretrainedModel;
import dev.tailor.serve.Access;
import dev.tailor.serve.ApiException;
import dev.tailor.serve.ServedModels;
import dev.tailor.serve.ServerOptions;
import dev.tailor.serve.TailorServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code tailor serve}: an OpenAI-compatible server for one base model and named adapters, until Ctrl-C or SIGTERM
 * (requests in flight finish first, for up to {@link TailorServer#DRAIN_TIMEOUT}); with {@code --state DIR}, a
 * durable adapter registry in DIR, its metadata in SQLite there or in the PostgreSQL database of {@code --database},
 * which replicas share.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model and its adapters over an OpenAI-compatible HTTP API.")
public final class ServeCommand implements Callable<Integer> {
    @Mixin
    QuantizeOption quantize;


    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "<spec>",
            description = "model directory, GGUF file, ORG/NAME[@REVISION] already in the Hugging Face cache or "
                    + "ollama:NAME[:TAG] (required, here or in --config)")
    String model;

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML/JSON file of these options (keys = option names without dashes; adapter: {NAME: DIR}); "
                    + "flags override it")
    Path config;

    @Option(names = "--served-model-name", description = "the base's id in requests (default: its directory's name)")
    String baseId;

    @Option(names = "--host", defaultValue = ServerOptions.LOOPBACK,
            description = "address to bind (default ${DEFAULT-VALUE}: this machine only)")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "port (default ${DEFAULT-VALUE}; 0 = any free)")
    int port;

    @Option(names = "--adapter", paramLabel = "NAME=DIR",
            description = "serve the PEFT adapter in DIR (any method) as model NAME (repeatable)")
    Map<String, Path> adapters = new LinkedHashMap<>();

    @Option(names = "--state", paramLabel = "DIR",
            description = "keep an adapter registry in DIR (registry.db and store/), served back after a restart "
                    + "(default: none, adapters are kept in memory only)")
    Path state;

    @Option(names = "--database", paramLabel = "JDBC_URL",
            description = "with --state: keep the registry's metadata in this database, not DIR/registry.db: "
                    + "jdbc:postgresql://HOST[:PORT]/NAME?user=U (the password from ~/.pgpass, or &password=P), which "
                    + "servers sharing it and one --state store serve as one, each seeing the others' changes at once "
                    + "(default: $TAILOR_DATABASE_URL; without either, SQLite in DIR)")
    String database;

    @Option(names = "--adapter-cache-bytes", paramLabel = "N", defaultValue = "1073741824",
            description = "with --state: most bytes of registered adapters' tensors kept in memory; the least recently "
                    + "used unpinned ones are evicted past it, and loaded again when next used (default "
                    + "${DEFAULT-VALUE}, 1 GiB)")
    long adapterCacheBytes;

    @Option(names = "--admin-key", paramLabel = "KEY",
            description = "require Authorization: Bearer KEY (this admin key, or a tenant's from POST /v1/tenants) "
                    + "on every request but /health and /ready (default: $TAILOR_ADMIN_KEY; without either, the "
                    + "server binds loopback only and every caller is the admin)")
    String adminKey;

    @Option(names = "--adapter-root", paramLabel = "DIR",
            description = "a directory tenants may register adapters from (repeatable; default: none, only the "
                    + "admin registers)")
    List<Path> adapterRoots = new ArrayList<>();

    @Option(names = "--max-tokens-limit", defaultValue = "1024",
            description = "most max_tokens a request may ask, and the default (default ${DEFAULT-VALUE})")
    int maxTokensLimit;

    @Option(names = "--max-body-bytes", defaultValue = "1048576",
            description = "largest request body; larger ones get 413 (default ${DEFAULT-VALUE})")
    long maxBodyBytes;

    @Option(names = "--max-queue", defaultValue = "64",
            description = "most requests waiting for a place in the batch; one more gets 429 (default ${DEFAULT-VALUE})")
    int maxQueue;

    @Option(names = "--max-batch", defaultValue = "16",
            description = "most requests generating together, one forward pass for all (default ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--request-timeout", paramLabel = "SECONDS", defaultValue = "600",
            description = "longest a generation request may take, waiting included; past it, 504 or a stream ended "
                    + "with an error (default ${DEFAULT-VALUE})")
    double requestTimeout;

    @Mixin
    FineTuningOptions fineTuning = new FineTuningOptions();

    @Override
    public Integer call() throws InterruptedException {
        if (config != null) {
            return Recipe.rerun(config, "--config", spec, ServeCommand::new);
        }
        if (model == null) {
            throw new IllegalArgumentException("--model is required (on the command line or as model: in --config)");
        }
        if (!(requestTimeout > 0) || Double.isInfinite(requestTimeout)) {
            throw new IllegalArgumentException("--request-timeout must be a positive number of seconds, got "
                    + requestTimeout);
        }
        fineTuning.check(state);
        ServerOptions options = new ServerOptions(host, port, maxTokensLimit, maxBodyBytes, maxQueue,
                Duration.ofNanos(Math.round(requestTimeout * 1e9)), maxBatch);
        String key = adminKey != null ? adminKey : System.getenv("TAILOR_ADMIN_KEY");
        Access access = new Access(key == null || key.isEmpty() ? null : key, adapterRoots);
        access.checkBind(host);
        ModelOption option = new ModelOption();
        option.spec = model;
        Path dir = option.resolve();
        String databaseUrl = database != null ? database : System.getenv("TAILOR_DATABASE_URL");
        String registry = databaseUrl == null || databaseUrl.isEmpty() ? null : databaseUrl;
        try (PretrainedModel pretrained = PretrainedModel.load(dir, quantize.loading());
             ServedModels models = new ServedModels(pretrained, baseId != null ? baseId
                     : dir.getFileName().toString(), state, registry, adapterCacheBytes);
             FineTuningOptions.Running jobs = fineTuning.start(models, dir, state, registry)) {
            adapters.forEach((name, adapterDir) -> {
                try {
                    models.load(name, adapterDir, false);
                } catch (ApiException e) {
                    throw new IllegalArgumentException("--adapter " + name + "=" + adapterDir + ": " + e.getMessage(), e);
                }
            });
            TailorServer server = TailorServer.start(models, options, access, jobs.routes());
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "tailor-serve-shutdown"));
            System.err.printf("serving %s%s at http://%s:%d/v1 (Ctrl-C stops)%n", models.baseId(),
                    models.adapterNames().isEmpty() ? "" : " with adapters " + String.join(", ", models.adapterNames()),
                    host, server.port());
            server.awaitShutdown();
        }
        return 0;
    }
}
