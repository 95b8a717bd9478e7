package dev.tailor.serve;

import dev.tailor.adapt.AdaptedModel;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The models a server answers to: one base, under its id, and adapters on it, by name. An adapter is either loaded
 * for the server's lifetime ({@link #load}, vLLM's endpoints) or, when the server has a state directory, registered
 * ({@link #register}): a durable, immutable version {@code name@n}, a plain {@code name} resolving to its
 * {@link AdapterRegistry#PROD} alias. A request's {@code model} is the base's id, an adapter, or adapters joined by
 * {@code +} to stack them in that order ({@code a+b@2}). Resolving gives an immutable view: loading, registering,
 * rolling back or unloading afterwards does not change it.
 */
public final class ServedModels {
    /** Joins adapter names into a stack in a request's {@code model} field. */
    public static final String STACK = "+";
    /** Joins a registered adapter's name and a version number in a request's {@code model} field. */
    public static final String VERSION = "@";

    private final PretrainedModel pretrained;
    private final String baseId;
    private final AdaptedModel adapted;
    private final long created = System.currentTimeMillis() / 1000;
    private final AdapterRegistry registry;
    private final AdapterStore store;
    /** What the registry holds, reread after each change; empty without a registry. */
    private volatile Map<String, AdapterInfo> registered = Map.of();

    /**
     * Serves {@code pretrained} (which stays the caller's to close) under {@code baseId}, checking adapters against its
     * {@link BaseFingerprint}; nothing is kept after the server stops, and {@link #register} is refused.
     */
    public ServedModels(PretrainedModel pretrained, String baseId) {
        this(pretrained, baseId, null);
    }

    /**
     * Serves {@code pretrained} (which stays the caller's to close) under {@code baseId}, with the adapter registry of
     * {@code state} ({@code registry.db} and the adapter store {@code store/}, created if absent) when it is not null:
     * every registered version is loaded back.
     *
     * @throws IllegalStateException naming the version when a registered adapter no longer loads on this base
     */
    public ServedModels(PretrainedModel pretrained, String baseId, Path state) {
        if (baseId == null || baseId.isBlank() || baseId.contains(STACK) || baseId.contains(VERSION)) {
            throw new IllegalArgumentException("the base's id must be a non-blank name without '" + STACK
                    + "' or '" + VERSION + "', got '" + baseId + "'");
        }
        this.pretrained = pretrained;
        this.baseId = baseId;
        this.adapted = new AdaptedModel(pretrained.model(), BaseFingerprint.compute(pretrained.dir()));
        if (state == null) {
            this.registry = null;
            this.store = null;
            return;
        }
        try {
            Files.createDirectories(state);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the state directory " + state + ": " + e.getMessage(), e);
        }
        this.registry = AdapterRegistry.open(state.resolve("registry.db"));
        this.store = new AdapterStore(state.resolve("store"));
        refresh();
        registered.forEach((name, info) -> info.versions().forEach(v -> {
            Path dir = store.dir(v.sha256());
            try {
                adapted.add(name + VERSION + v.version(), AdapterFiles.load(dir), AdapterFiles.baseFingerprint(dir));
            } catch (RuntimeException e) {
                throw new IllegalStateException("registered adapter " + name + VERSION + v.version() + " (" + dir
                        + ") does not load on this base: " + e.getMessage(), e);
            }
        }));
    }

    /** The base model with its tokenizer and chat template. */
    public PretrainedModel pretrained() {
        return pretrained;
    }

    /** The base's id. */
    public String baseId() {
        return baseId;
    }

    /** The loaded adapters' names, in the order loaded, then the registered ones', in name order. */
    public List<String> adapterNames() {
        List<String> names = new ArrayList<>(loadedNames());
        names.addAll(registered.keySet());
        return names;
    }

    /** The adapters loaded by {@link #load}: the registry's versions are held under {@code name@n}. */
    private List<String> loadedNames() {
        return adapted.names().stream().filter(n -> !n.contains(VERSION)).toList();
    }

    /** When the server started serving, in seconds since the epoch (the models' {@code created}). */
    public long created() {
        return created;
    }

    /**
     * The network a request's {@code model} names: the base, an adapter ({@code name}, {@code name@n}), or a stack
     * {@code a+b@2}.
     *
     * @throws ApiException 404 naming the model and, for a version or alias that is not there, which
     */
    public LlamaModel resolve(String model) {
        if (model.equals(baseId)) {
            return adapted.base();
        }
        Map<String, AdapterInfo> now = registered;
        List<String> keys = new ArrayList<>();
        for (String part : model.split("\\" + STACK, -1)) {
            keys.add(key(model, part, now));
        }
        try {
            return adapted.model(keys);
        } catch (IllegalArgumentException e) {
            throw ApiException.modelNotFound(model, e.getMessage() + "; the base is '" + baseId + "'");
        }
    }

    /** Where {@code part} of {@code model} is held in the adapted model: a loaded name, or {@code name@n}. */
    private static String key(String model, String part, Map<String, AdapterInfo> now) {
        int at = part.lastIndexOf(VERSION);
        String name = at < 0 ? part : part.substring(0, at);
        AdapterInfo info = now.get(name);
        if (info == null) {
            return part;
        }
        if (at < 0) {
            Integer prod = info.aliases().get(AdapterRegistry.PROD);
            if (prod == null) {
                throw ApiException.modelNotFound(model, "adapter '" + name + "' has no " + AdapterRegistry.PROD
                        + " version; name one as " + name + VERSION + "N (versions " + info.numbers() + ")");
            }
            return name + VERSION + prod;
        }
        String number = part.substring(at + 1);
        if (info.versions().stream().noneMatch(v -> String.valueOf(v.version()).equals(number))) {
            throw ApiException.modelNotFound(model, "adapter '" + name + "' has no version '" + number
                    + "' (versions " + info.numbers() + ")");
        }
        return part;
    }

    /**
     * Loads the adapter in {@code dir} (any method) under {@code name}; replaces one of that name when
     * {@code inPlace}. The files are read and checked (format, method, shapes, base fingerprint) before anything
     * serving changes, so a bad adapter leaves every model as it was.
     *
     * @throws ApiException 400 naming the cause: a bad name, a name taken without {@code inPlace}, a missing
     *                      directory, or an adapter that cannot be read or does not fit this base
     */
    public synchronized void load(String name, Path dir, boolean inPlace) {
        checkName("lora_name", name);
        if (name.equals(baseId)) {
            throw ApiException.badRequest("lora_name", "The lora adapter name '" + name
                    + "' conflicts with the served base model.");
        }
        if (registered.containsKey(name)) {
            throw ApiException.badRequest("lora_name", "'" + name + "' is a registered adapter; register a new "
                    + "version with PUT /v1/adapters/" + name + " instead");
        }
        if (!inPlace && adapted.names().contains(name)) {
            throw ApiException.badRequest("lora_name", "The lora adapter '" + name + "' has already been loaded. "
                    + "If you want to load the adapter in place, set 'load_inplace' to true.");
        }
        if (!Files.isDirectory(dir)) {
            throw ApiException.badRequest("lora_path", "'lora_path' " + dir + " is not a directory");
        }
        try {
            Adapter adapter = AdapterFiles.load(dir);
            String fingerprint = AdapterFiles.baseFingerprint(dir);
            if (inPlace) {
                adapted.replace(name, adapter, fingerprint);
            } else {
                adapted.add(name, adapter, fingerprint);
            }
        } catch (RuntimeException e) {
            throw ApiException.badRequest("lora_path", "cannot load adapter '" + name + "' from " + dir + ": "
                    + e.getMessage());
        }
    }

    /**
     * Unloads adapter {@code name}; requests already running on it finish with it.
     *
     * @throws ApiException 404 when there is no adapter of that name
     */
    public synchronized void unload(String name) {
        if (!loadedNames().contains(name)) {
            throw new ApiException(404, "NotFoundError", "adapter_not_found", "lora_name",
                    "The lora adapter '" + name + "' cannot be found.");
        }
        adapted.delete(name);
    }

    /**
     * Every model a request may name: the base first, then each loaded adapter, then each registered one: its plain
     * name when it has a {@link AdapterRegistry#PROD} version, and each {@code name@n}.
     */
    public List<ModelCard> cards() {
        List<ModelCard> cards = new ArrayList<>();
        cards.add(ModelCard.of(baseId, created, null, pretrained.dir().toString()));
        for (String name : loadedNames()) {
            cards.add(ModelCard.of(name, created, baseId, null));
        }
        registered.forEach((name, info) -> {
            Integer prod = info.aliases().get(AdapterRegistry.PROD);
            for (AdapterVersion v : info.versions()) {
                if (prod != null && v.version() == prod) {
                    cards.add(ModelCard.of(name, v.created(), baseId, null));
                }
            }
            for (AdapterVersion v : info.versions()) {
                cards.add(ModelCard.of(name + VERSION + v.version(), v.created(), baseId, null));
            }
        });
        return cards;
    }

    /** The registered adapters, in name order. */
    public List<AdapterInfo> registered() {
        requireRegistry();
        return List.copyOf(registered.values());
    }

    /**
     * The registered adapter {@code name}.
     *
     * @throws ApiException 404 when there is none of that name
     */
    public AdapterInfo registered(String name) {
        requireRegistry();
        AdapterInfo info = registered.get(name);
        if (info == null) {
            throw new ApiException(404, "NotFoundError", "adapter_not_found", "name", "no adapter named '" + name
                    + "' is registered" + (registered.isEmpty() ? ""
                    : " (registered: " + String.join(", ", registered.keySet()) + ")"));
        }
        return info;
    }

    /**
     * Registers the adapter in {@code dir} as the next version of {@code name}: its files are copied into the
     * store and loaded from the copy (format, method, shapes, base fingerprint checked) before anything is recorded,
     * so a bad adapter changes nothing. The new version becomes {@link AdapterRegistry#PROD} when {@code promote}.
     *
     * @param expectedVersion when not null, the latest version the caller saw (0 for none): another one is a conflict
     * @return the new version's number
     * @throws ApiException 400 naming the cause (a bad name, a name loaded by {@link #load}, a missing directory, an
     *                      adapter that cannot be read or does not fit this base); 409 naming both versions on a
     *                      conflict; 404 when the server has no state directory
     */
    public synchronized int register(String name, Path dir, boolean promote, Integer expectedVersion) {
        requireRegistry();
        checkName("name", name);
        if (name.equals(baseId) || loadedNames().contains(name)) {
            throw ApiException.badRequest("name", "'" + name + "' is " + (name.equals(baseId) ? "the base's id"
                    : "an adapter loaded with /v1/load_lora_adapter") + "; register under another name");
        }
        int latest = registry.latest(name);
        if (expectedVersion != null && expectedVersion != latest) {
            throw ApiException.conflict("expected_version", "expected_version is " + expectedVersion
                    + " but the latest version of '" + name + "' is " + latest);
        }
        if (!Files.isDirectory(dir)) {
            throw ApiException.badRequest("path", "'path' " + dir + " is not a directory");
        }
        AdapterStore.Staged staged;
        try {
            staged = store.stage(dir);
        } catch (UncheckedIOException e) {
            throw ApiException.badRequest("path", e.getMessage());
        }
        int version = latest + 1;
        String key = name + VERSION + version;
        JsonNode config;
        String fingerprint;
        try {
            config = AdapterFiles.config(staged.dir());
            fingerprint = AdapterFiles.baseFingerprint(staged.dir());
            adapted.add(key, AdapterFiles.load(staged.dir()), fingerprint);
        } catch (RuntimeException e) {
            store.discard(staged);
            // the staged copy holds the same files as dir: name those the caller knows
            throw ApiException.badRequest("path", "cannot register adapter '" + name + "' from " + dir + ": "
                    + String.valueOf(e.getMessage()).replace(staged.dir().toString(), dir.toString()));
        }
        try {
            store.commit(staged);
            JsonNode rank = config.path("r");
            registry.insert(name, new AdapterVersion(version, config.path("peft_type").asText(),
                    rank.canConvertToInt() ? rank.intValue() : null, staged.bytes(), fingerprint, staged.sha256(),
                    System.currentTimeMillis() / 1000), promote ? AdapterRegistry.PROD : null);
        } catch (RuntimeException e) {
            adapted.delete(key);
            throw e;
        }
        refresh();
        return version;
    }

    /**
     * Moves {@code name}'s {@link AdapterRegistry#PROD} back to the version it pointed at before its last move.
     *
     * @param expectedVersion when not null, the prod version the caller saw: another one is a conflict
     * @return the version prod points at now
     * @throws ApiException 404 for an unknown name; 409 on a conflict or when prod has no earlier version
     */
    public synchronized int rollback(String name, Integer expectedVersion) {
        Integer prod = registered(name).aliases().get(AdapterRegistry.PROD);
        if (expectedVersion != null && !expectedVersion.equals(prod)) {
            throw ApiException.conflict("expected_version", "expected_version is " + expectedVersion + " but "
                    + AdapterRegistry.PROD + " of '" + name + "' is " + (prod == null ? "not set" : "version " + prod));
        }
        int version = registry.rollback(name, AdapterRegistry.PROD);
        if (version == 0) {
            throw ApiException.conflict(null, AdapterRegistry.PROD + " of '" + name + "' has no earlier version to "
                    + "roll back to");
        }
        refresh();
        return version;
    }

    private void refresh() {
        Map<String, AdapterInfo> now = new TreeMap<>();
        registry.all().forEach((name, versions) -> now.put(name,
                new AdapterInfo(name, registry.aliases(name), versions)));
        registered = Collections.unmodifiableMap(now);
    }

    private void requireRegistry() {
        if (registry == null) {
            throw new ApiException(404, "NotFoundError", "no_registry", null, "this server keeps no adapter "
                    + "registry: start it with --state DIR");
        }
    }

    private static void checkName(String param, String name) {
        if (name == null || name.isBlank() || name.contains(STACK) || name.contains(VERSION)) {
            throw ApiException.badRequest(param, "'" + param + "' must be a non-blank name without '" + STACK
                    + "' or '" + VERSION + "', got " + (name == null ? "nothing" : "'" + name + "'"));
        }
    }
}
