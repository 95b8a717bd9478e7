package dev.tailor.serve;

import dev.tailor.adapt.AdaptedModel;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.train.Evaluator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * The models a server answers to: one base, under its id, and adapters on it, by name. An adapter is either loaded
 * for the server's lifetime ({@link #load}, vLLM's endpoints) or, when the server has a state directory, registered
 * ({@link #register}): a durable, immutable version {@code name@n}, a plain {@code name} resolving to its
 * {@link AdapterRegistry#PROD} alias. A request's {@code model} is the base's id, an adapter, or adapters joined by
 * {@code +} to stack them in that order ({@code a+b@2}). Resolving gives an immutable view: loading, registering,
 * rolling back, unloading or evicting afterwards does not change it.
 *
 * <p>Registered versions are read from the adapter store when a request first names them, into an
 * {@link AdapterCache} with a byte budget that evicts the least recently used; a version registered or pinned with
 * {@link Residency#PINNED} stays loaded (and is loaded again when the server restarts), one registered with
 * {@link Residency#PRELOADED} is loaded at once. Adapters loaded by {@link #load} are outside the cache: they stay
 * until unloaded.
 *
 * <p>The registry is SQLite in the state directory, or a PostgreSQL database that several servers (replicas) share
 * with one adapter store: then a {@link RegistryListener} rereads what another server changed, so each serves what
 * the others registered, moved, split or pinned within moments. Compare-and-set is checked by the database.
 */
public final class ServedModels implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ServedModels.class.getName());
    /** Joins adapter names into a stack in a request's {@code model} field. */
    public static final String STACK = "+";
    /** Joins a registered adapter's name and a version number in a request's {@code model} field. */
    public static final String VERSION = "@";
    /** The adapter cache's budget when none is given: 1 GiB of adapter tensors. */
    public static final long DEFAULT_ADAPTER_CACHE_BYTES = 1L << 30;

    /** What registering a version loads. */
    public enum Residency {
        /** Nothing: the adapter is checked by loading it, then dropped, and loaded again when first used. */
        LAZY,
        /** The adapter stays in the cache, the most recently used, evicted like any other. */
        PRELOADED,
        /** The adapter stays in the cache and is never evicted, until unpinned; a restart loads it again. */
        PINNED
    }

    private final PretrainedModel pretrained;
    private final String baseId;
    private final String baseFingerprint;
    private final AdaptedModel adapted;
    private final AdapterCache cache;
    private final long created = System.currentTimeMillis() / 1000;
    private final AdapterRegistry registry;
    private final AdapterStore store;
    private final Tenants tenants;
    /** Keeps the snapshot in step with other servers on a PostgreSQL registry; null otherwise. */
    private final RegistryListener listener;
    /** Held while the snapshot below is reread and replaced, so no reread overwrites a later one. */
    private final Object snapshotLock = new Object();
    /** Who owns each registered name that has an owner recorded; empty without a registry. */
    private volatile Map<String, Ownership> owners = Map.of();
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
     * As {@link #ServedModels(PretrainedModel, String, Path, long)} with an adapter cache of
     * {@link #DEFAULT_ADAPTER_CACHE_BYTES}.
     */
    public ServedModels(PretrainedModel pretrained, String baseId, Path state) {
        this(pretrained, baseId, state, DEFAULT_ADAPTER_CACHE_BYTES);
    }

    /**
     * Serves {@code pretrained} (which stays the caller's to close) under {@code baseId}, with the adapter registry of
     * {@code state} ({@code registry.db} and the adapter store {@code store/}, created if absent) when it is not null:
     * every registered version is served again, the pinned ones loaded now and the others when first used, within
     * {@code adapterCacheBytes} bytes of tensors.
     *
     * @throws InvalidOptionException naming {@code adapter_cache_bytes} when it is below 1
     * @throws IllegalStateException  naming the version when a registered adapter's files are missing from the store,
     *                                were recorded for another base, or (pinned) no longer load on this base
     */
    public ServedModels(PretrainedModel pretrained, String baseId, Path state, long adapterCacheBytes) {
        this(pretrained, baseId, state, null, adapterCacheBytes);
    }

    /**
     * As {@link #ServedModels(PretrainedModel, String, Path, long)}, with the registry's metadata in the database at
     * JDBC URL {@code database} (SQLite's {@code state/registry.db} when null) and the adapter store in
     * {@code state}. On PostgreSQL ({@code jdbc:postgresql://…}) servers sharing the database and the store serve as
     * one: each listens for the others' changes until {@link #close()}.
     *
     * @throws InvalidOptionException naming {@code database} when it is given without {@code state} or is not a
     *                                PostgreSQL or SQLite URL
     */
    public ServedModels(PretrainedModel pretrained, String baseId, Path state, String database,
                        long adapterCacheBytes) {
        if (database != null && state == null) {
            throw new InvalidOptionException("database", "database needs a state directory for the adapter store, "
                    + "shared by every server on the database");
        }
        if (baseId == null || baseId.isBlank() || baseId.contains(STACK) || baseId.contains(VERSION)) {
            throw new IllegalArgumentException("the base's id must be a non-blank name without '" + STACK
                    + "' or '" + VERSION + "', got '" + baseId + "'");
        }
        this.pretrained = pretrained;
        this.baseId = baseId;
        String fingerprint = BaseFingerprint.compute(pretrained.dir());
        this.baseFingerprint = fingerprint;
        this.adapted = new AdaptedModel(pretrained.model(), fingerprint);
        this.cache = new AdapterCache(adapted, adapterCacheBytes, this::read);
        if (state == null) {
            this.registry = null;
            this.store = null;
            this.tenants = null;
            this.listener = null;
            return;
        }
        try {
            Files.createDirectories(state);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the state directory " + state + ": " + e.getMessage(), e);
        }
        this.registry = database == null ? AdapterRegistry.open(state.resolve("registry.db"))
                : AdapterRegistry.open(database);
        try {
            this.store = new AdapterStore(state.resolve("store"));
            this.tenants = new Tenants(registry.database());
            refresh();
            registered.forEach((name, info) -> info.versions().forEach(v -> {
                String key = name + VERSION + v.version();
                Path dir = store.dir(v.sha256());
                if (!Files.isDirectory(dir)) {
                    throw new IllegalStateException("registered adapter " + key + " has no files in the adapter store: "
                            + dir + " is missing");
                }
                if (v.baseFingerprint() != null && !v.baseFingerprint().equals(fingerprint)) {
                    throw new IllegalStateException("registered adapter " + key + " (" + dir + ") was trained on base "
                            + v.baseFingerprint() + " but this base is " + fingerprint);
                }
                if (v.pinned()) {
                    cache.pin(key);
                }
            }));
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        this.listener = registry.database().dialect() == Database.Dialect.POSTGRESQL
                ? RegistryListener.start(database, this::registryChanged) : null;
    }

    /**
     * Rereads what another server changed of {@code name} (everything when null), then pins and unpins versions in
     * the cache as the registry now says.
     */
    private void registryChanged(String name) {
        if (name == null) {
            refresh();
        } else {
            refresh(name);
        }
        Map<String, AdapterInfo> now = registered;
        synchronized (this) {
            if (name == null) {
                now.values().forEach(this::followPins);
            } else if (now.containsKey(name)) {
                followPins(now.get(name));
            }
        }
    }

    /**
     * Rereads what the registry holds of {@code name} (everything when null), as after a change another process made
     * (a fine-tuning worker's registration), and follows its pins. On PostgreSQL the {@link RegistryListener} does
     * this by itself; a SQLite registry changed by another process needs it.
     */
    public void reread(String name) {
        if (registry != null) {
            registryChanged(name);
        }
    }

    /** Pins the versions of {@code info} the registry marks pinned, loading them, and unpins the others. */
    private void followPins(AdapterInfo info) {
        for (AdapterVersion v : info.versions()) {
            String key = info.name() + VERSION + v.version();
            if (v.pinned() && !cache.pinned(key)) {
                try {
                    cache.pin(key);
                } catch (IllegalStateException | IllegalArgumentException e) {
                    LOG.warning("cannot load pinned adapter " + key + ": " + e.getMessage());
                }
            } else if (!v.pinned() && cache.pinned(key)) {
                cache.unpin(key);
            }
        }
    }

    /** Stops listening for other servers' changes and closes the registry's connections. */
    @Override
    public void close() {
        if (listener != null) {
            listener.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    /**
     * Reads registered version {@code key} ({@code name@n}) from the adapter store, for the cache.
     *
     * @throws IllegalArgumentException naming the file when it cannot be read
     */
    private AdapterCache.Loaded read(String key) {
        int at = key.lastIndexOf(VERSION);
        AdapterInfo info = registered.get(key.substring(0, at));
        AdapterVersion v = info == null ? null : info.version(Integer.parseInt(key.substring(at + 1)));
        if (v == null) {
            throw new IllegalArgumentException("there is no registered version " + key);
        }
        Path dir = store.dir(v.sha256());
        return new AdapterCache.Loaded(AdapterFiles.load(dir), AdapterFiles.baseFingerprint(dir));
    }

    /** The base model with its tokenizer and chat template. */
    public PretrainedModel pretrained() {
        return pretrained;
    }

    /** The base's id. */
    public String baseId() {
        return baseId;
    }

    /** The base's {@link BaseFingerprint}. */
    public String baseFingerprint() {
        return baseFingerprint;
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

    /** How many adapters are in memory: those loaded by {@link #load} and the registry's versions in the cache. */
    int adaptersLoaded() {
        return adapted.names().size();
    }

    /** The cache of the registry's versions. */
    AdapterCache cache() {
        return cache;
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
        return resolve(model, Caller.ADMIN, null);
    }

    /** As {@link #resolve(String, Caller, String)} with no {@code user}. */
    public LlamaModel resolve(String model, Caller caller) {
        return resolve(model, caller, null);
    }

    /**
     * As {@link #resolve(String)}, for {@code caller} and a request from {@code user} (OpenAI's {@code user} field, or
     * null). The caller names adapters as {@link Namespace} says: a tenant its own by their names without its prefix,
     * and the shared ones; another tenant's adapter is answered exactly as one that does not exist, so a tenant cannot
     * learn another's adapter names. A plain registered name with a traffic split serves the version the split gives
     * that user (the same one every time while the split stands; a random one by weight when {@code user} is null);
     * {@code name@n} ignores the split.
     *
     * @throws ApiException 404 naming the model
     */
    public LlamaModel resolve(String model, Caller caller, String user) {
        if (model.equals(baseId)) {
            return adapted.base();
        }
        Map<String, AdapterInfo> now = registered;
        Namespace names = namespace(caller, now);
        List<String> parts = List.of(model.split("\\" + STACK, -1));
        List<String> keys = new ArrayList<>();
        for (String part : parts) {
            keys.add(key(model, part, names, now, user));
        }
        // a tenant's stack is checked here: the adapted model's refusal would name every adapter in memory
        for (int i = 0; i < keys.size() && !caller.admin(); i++) {
            if (keys.subList(0, i).contains(keys.get(i))) {
                throw ApiException.modelNotFound(model, "'" + parts.get(i) + "' is stacked twice");
            }
        }
        try {
            return cache.view(keys);
        } catch (IllegalArgumentException e) {
            // only the admin may read the adapted model's message: it lists every adapter in memory
            throw ApiException.modelNotFound(model, (caller.admin() ? e.getMessage()
                    : "an adapter it names was unloaded meanwhile") + "; the base is '" + baseId + "'");
        } catch (IllegalStateException e) {
            String message = e.getMessage();
            for (int i = 0; i < parts.size(); i++) {
                message = Namespace.speak(message, unversioned(keys.get(i)), unversioned(parts.get(i)));
            }
            throw loadFailed(message);
        }
    }

    /** {@code name} or {@code name@n} without its version. */
    private static String unversioned(String part) {
        int at = part.lastIndexOf(VERSION);
        return at < 0 ? part : part.substring(0, at);
    }

    /** A registered version that is in the registry but cannot be loaded: the server's fault, so 500 naming it. */
    private static ApiException loadFailed(String message) {
        return new ApiException(500, "server_error", "adapter_load_failed", "model", message);
    }

    /**
     * Where {@code part} of {@code model}, as {@code names}' caller names it, is held in the adapted model: a loaded
     * name, or a registered key and version {@code key@n}.
     *
     * @throws ApiException 404 for a registered name without the version asked for (or a prod), and for a tenant,
     *                      for an adapter it does not see, in the words used for one that does not exist
     */
    private String key(String model, String part, Namespace names, Map<String, AdapterInfo> now, String user) {
        int at = part.lastIndexOf(VERSION);
        String name = at < 0 ? part : part.substring(0, at);
        String key = names.key(name);
        if (key == null) {
            if (at < 0 && (names.caller().admin() || loadedNames().contains(name))) {
                return part;
            }
            if (at >= 0 && loadedNames().contains(name)) {
                throw ApiException.modelNotFound(model, "adapter '" + name + "' was loaded by name, not registered, "
                        + "so it has no version '" + part.substring(at + 1) + "'; ask for '" + name + "'");
            }
            throw ApiException.modelNotFound(model, "there is no adapter '" + name + "'; the base is '" + baseId
                    + "'");
        }
        AdapterInfo info = now.get(key);
        if (at < 0 && info.traffic().active()) {
            double point = user == null ? ThreadLocalRandom.current().nextDouble() : point(user, key);
            return key + VERSION + info.traffic().pick(point);
        }
        if (at < 0) {
            Integer prod = info.aliases().get(AdapterRegistry.PROD);
            if (prod == null) {
                throw ApiException.modelNotFound(model, "adapter '" + name + "' has no " + AdapterRegistry.PROD
                        + " version; name one as " + name + VERSION + "N (versions " + info.numbers() + ")");
            }
            return key + VERSION + prod;
        }
        String number = part.substring(at + 1);
        if (info.versions().stream().noneMatch(v -> String.valueOf(v.version()).equals(number))) {
            throw ApiException.modelNotFound(model, "adapter '" + name + "' has no version '" + number
                    + "' (versions " + info.numbers() + ")");
        }
        return key + VERSION + number;
    }

    /**
     * {@code model} (resolved for {@code caller}) as the admin names it: each registered adapter by its key. What
     * the metrics and the access log record, so two tenants' adapters of one name are told apart there.
     */
    String qualified(String model, Caller caller) {
        if (caller.admin() || model.equals(baseId)) {
            return model;
        }
        Namespace names = namespace(caller, registered);
        List<String> parts = new ArrayList<>();
        for (String part : model.split("\\" + STACK, -1)) {
            int at = part.lastIndexOf(VERSION);
            String key = names.key(at < 0 ? part : part.substring(0, at));
            parts.add(key == null ? part : at < 0 ? key : key + part.substring(at));
        }
        return String.join(STACK, parts);
    }

    /** Where {@code user}'s requests for {@code name} fall in [0, 1): from SHA-256 of both, so stable. */
    static double point(String user, String name) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((name + "\u0000" + user)
                    .getBytes(StandardCharsets.UTF_8));
            long bits = 0;
            for (int i = 0; i < 8; i++) {
                bits = bits << 8 | (h[i] & 0xff);
            }
            return (bits >>> 11) * 0x1.0p-53;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
        if (name.contains(Namespace.SEPARATOR)) {
            throw ApiException.badRequest("lora_name", "'lora_name' must not contain '" + Namespace.SEPARATOR
                    + "', which separates a tenant's name from its adapter's in the registry, got '" + name + "'");
        }
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
            Adapter adapter = AdapterFiles.load(dir).forInference();
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
        return cards(Caller.ADMIN);
    }

    /**
     * The entry of {@link #cards(Caller)} whose id is {@code id}, as {@code GET /v1/models/{id}} answers it.
     *
     * @throws ApiException 404 when {@code caller} may name no such model
     */
    public ModelCard card(String id, Caller caller) {
        return cards(caller).stream().filter(c -> c.id().equals(id)).findFirst()
                .orElseThrow(() -> ApiException.modelNotFound(id, "GET /v1/models lists the models there are"));
    }

    /**
     * As {@link #cards()}, only those {@code caller} may see, by the names it gives them ({@link Namespace}); a
     * registered adapter hides a loaded one of the same name, as it does when resolved.
     */
    public List<ModelCard> cards(Caller caller) {
        Map<String, AdapterInfo> now = registered;
        SortedMap<String, String> names = namespace(caller, now).visible();
        List<ModelCard> cards = new ArrayList<>();
        cards.add(ModelCard.of(baseId, created, null, pretrained.dir().toString()));
        for (String name : loadedNames()) {
            if (!names.containsKey(name)) {
                cards.add(ModelCard.of(name, created, baseId, null));
            }
        }
        names.forEach((name, key) -> {
            AdapterInfo info = now.get(key);
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
        return registered(Caller.ADMIN);
    }

    /** The registered adapters {@code caller} may see, each under the name it gives it, in name order. */
    public List<AdapterInfo> registered(Caller caller) {
        requireRegistry();
        Map<String, AdapterInfo> now = registered;
        return namespace(caller, now).visible().entrySet().stream()
                .map(e -> withLoaded(now.get(e.getValue())).named(e.getKey())).toList();
    }

    /** {@code info} with each version's {@link AdapterVersion#loaded()} as the cache says now. */
    private AdapterInfo withLoaded(AdapterInfo info) {
        return info.withLoaded(v -> cache.loaded(info.name() + VERSION + v));
    }

    /**
     * The registry key of {@code caller}'s own adapter {@code name} (for the admin, {@code name} itself): the one it has,
     * or the one its registering {@code name} would make ({@code TENANT:NAME}). Another process (a fine-tuning worker)
     * registers for a caller by name and then works on the key, as the admin does.
     */
    public String ownKey(String name, Caller caller) {
        if (caller.admin()) {
            return name;
        }
        String own = namespace(caller, registered).own(name);
        return own != null ? own : Namespace.key(caller.tenant(), name);
    }

    /**
     * The registered adapter {@code name}.
     *
     * @throws ApiException 404 when there is none of that name
     */
    public AdapterInfo registered(String name) {
        return registered(name, Caller.ADMIN);
    }

    /**
     * The registered adapter {@code caller} calls {@code name} ({@link Namespace}), under that name.
     *
     * @throws ApiException 404 when there is none of that name or the caller may not see it: the same answer, which
     *                      lists only what the caller sees, by its names
     */
    public AdapterInfo registered(String name, Caller caller) {
        requireRegistry();
        Map<String, AdapterInfo> now = registered;
        Namespace names = namespace(caller, now);
        String key = names.key(name);
        if (key == null) {
            Set<String> seen = names.visible().keySet();
            throw new ApiException(404, "NotFoundError", "adapter_not_found", "name", "no adapter named '" + name
                    + "' is registered" + (seen.isEmpty() ? "" : " (registered: " + String.join(", ", seen) + ")"));
        }
        return withLoaded(now.get(key)).named(name);
    }

    /** Who owns {@code name}: the base and loaded adapters are shared, a registered name (a key) as recorded. */
    public Ownership owner(String name) {
        if (!registered.containsKey(name)) {
            return Ownership.SHARED;
        }
        return owners.getOrDefault(name, Ownership.ADMIN);
    }

    /** The names {@code caller} gives the adapters registered in {@code now}. */
    private Namespace namespace(Caller caller, Map<String, AdapterInfo> now) {
        return new Namespace(caller, now.keySet(), owners);
    }

    /**
     * The registry key of the adapter {@code caller} calls {@code name}, or {@code name} itself when it names no
     * registered adapter the caller sees; what the server's log names.
     */
    String key(String name, Caller caller) {
        String key = namespace(caller, registered).key(name);
        return key == null ? name : key;
    }

    /**
     * Creates tenant {@code name} with a new API key, stored hashed; answers the key, the only time it is seen.
     *
     * @throws ApiException 400 for a bad name; 409 for a taken one, or one whose namespace {@code name:} holds keys
     *                      registered before tenants had namespaces; 404 without a registry
     */
    public synchronized String createTenant(String name) {
        requireRegistry();
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw ApiException.badRequest("name", "'name' must be 1 to 64 letters, digits, '.', '_' or '-', "
                    + "starting with a letter or digit, got " + (name == null ? "nothing" : "'" + name + "'"));
        }
        List<String> taken = registered.keySet().stream()
                .filter(k -> k.startsWith(Namespace.key(name, "")) && !name.equals(owner(k).tenant())).toList();
        if (!taken.isEmpty()) {
            throw ApiException.conflict("name", "adapters registered before tenants had namespaces hold keys in "
                    + "the namespace of a tenant '" + name + "' (" + String.join(", ", taken) + "); name the tenant "
                    + "otherwise");
        }
        String key = tenants.create(name);
        if (key == null) {
            throw ApiException.conflict("name", "a tenant named '" + name + "' exists already");
        }
        return key;
    }

    /** Every tenant's name. */
    public List<String> tenants() {
        requireRegistry();
        return tenants.names();
    }

    /** The tenant whose API key is {@code key}, or null (always null without a registry). */
    public String tenantOf(String key) {
        return tenants == null ? null : tenants.tenantOf(Tenants.hash(key));
    }

    /** As {@link #register(String, Path, boolean, Integer, boolean, Caller, Ownership, Residency)}, loading it lazily. */
    public synchronized Registration register(String name, Path dir, boolean promote, Integer expectedVersion,
                                              boolean requireNoWorse, Caller caller, Ownership owner) {
        return register(name, dir, promote, expectedVersion, requireNoWorse, caller, owner, Residency.LAZY);
    }

    /**
     * Registers as {@link #register(String, Path, boolean, Integer, boolean, Residency)} for {@code caller}, who
     * names the adapter as {@link Namespace} says.
     *
     * <p>A tenant registers its own adapters only, and may not pin them (403: pinned memory is the whole server's).
     * Its {@code name} (without {@code :}) is its own adapter of that name if it has one, else a new one under the
     * key {@code TENANT:name}; the name of a shared adapter is 403, of the base or a loaded adapter 400. Another
     * tenant's adapter of the same name is another adapter, which the tenant never learns of.
     *
     * <p>The admin names the key. {@code TENANT:NAME} is tenant {@code TENANT}'s adapter (a new one needs the tenant
     * to exist); a plain name with {@code owner} a tenant means that tenant's adapter {@code NAME} (its legacy plain
     * key if it has one, else {@code TENANT:NAME}); otherwise {@code owner} null keeps a plain name's owner or makes a
     * new one the admin's, and {@link Ownership#SHARED} shares it.
     *
     * @return the adapter as the caller names it (the admin: its key) and the version registered
     * @throws ApiException 400 for a bad name, an unknown owning tenant or one that contradicts the key's; 403 or
     *                      409 as above; or as the other overload
     */
    public synchronized Registration register(String name, Path dir, boolean promote, Integer expectedVersion,
                                              boolean requireNoWorse, Caller caller, Ownership owner,
                                              Residency residency) {
        requireRegistry();
        if (residency == Residency.PINNED && !caller.admin()) {
            throw ApiException.forbidden("pin", "only the admin may pin an adapter");
        }
        Target target = caller.admin() ? adminTarget(name, owner) : tenantTarget(name, owner, caller);
        Ownership now = registered.containsKey(target.key()) ? owner(target.key()) : null;
        int version;
        try {
            version = register(target.key(), dir, promote, expectedVersion, requireNoWorse, residency,
                    AdapterVersion.creator(caller));
        } catch (ApiException e) {
            throw caller.admin() ? e : Namespace.speak(e, target.key(), name);
        }
        if (!target.owner().equals(now == null ? Ownership.ADMIN : now)) {
            tenants.own(target.key(), target.owner());
            refresh(target.key());
        }
        return new Registration(caller.admin() ? target.key() : name, version);
    }

    /** Where a registration goes: the registry key, and who owns it afterwards. */
    private record Target(String key, Ownership owner) {
    }

    /** Where the admin's registration of {@code key} for {@code owner} (or null) goes. */
    private Target adminTarget(String key, Ownership owner) {
        int colon = key.indexOf(Namespace.SEPARATOR);
        if (colon >= 0) {
            String tenant = key.substring(0, colon);
            if (owner != null && (owner.shared() || !tenant.equals(owner.tenant()))) {
                throw ApiException.badRequest(owner.shared() ? "shared" : "tenant", "'" + key + "' is tenant '"
                        + tenant + "''s adapter " + key.substring(colon + 1) + ", not " + (owner.shared()
                        ? "a shared one" : "tenant '" + owner.tenant() + "''s"));
            }
            if (registered.containsKey(key)) {
                return new Target(key, owner != null ? owner : owner(key));
            }
            String name = key.substring(colon + 1);
            if (!tenants.exists(tenant)) {
                throw ApiException.badRequest("name", "there is no tenant '" + tenant + "': '" + Namespace.SEPARATOR
                        + "' in an adapter's name separates the tenant that owns it from the adapter's own name");
            }
            checkTenantName(name);
            return new Target(key, new Ownership(tenant, false));
        }
        if (owner != null && owner.tenant() != null) {
            if (!tenants.exists(owner.tenant())) {
                throw ApiException.badRequest("tenant", "there is no tenant '" + owner.tenant() + "'");
            }
            checkTenantName(key);
            String own = namespace(new Caller(owner.tenant()), registered).own(key);
            return new Target(own != null ? own : Namespace.key(owner.tenant(), key), owner);
        }
        return new Target(key, owner != null ? owner : registered.containsKey(key) ? owner(key) : Ownership.ADMIN);
    }

    /** Where tenant {@code caller}'s registration of its adapter {@code name} goes. */
    private Target tenantTarget(String name, Ownership owner, Caller caller) {
        if (owner != null) {
            throw ApiException.forbidden(owner.shared() ? "shared" : "tenant", "only the admin may register "
                    + "an adapter for another tenant or shared");
        }
        checkTenantName(name);
        Namespace names = namespace(caller, registered);
        String key = names.own(name);
        if (key == null) {
            if (names.key(name) != null) {
                throw ApiException.forbidden("name", "'" + name + "' is a shared adapter; only the admin may "
                        + "register its versions");
            }
            key = Namespace.key(caller.tenant(), name);
            if (registered.containsKey(key)) {
                // another's key made before names had namespaces: refused without saying whose it is
                throw ApiException.conflict("name", "'" + name + "' cannot be registered: its key '" + key + "' "
                        + "was taken before tenants had namespaces; register under another name, or ask the admin");
            }
        }
        return new Target(key, new Ownership(caller.tenant(), false));
    }

    /**
     * Refuses a name a tenant calls its adapter: one that {@link #checkName} refuses, one with {@code :}, the base's
     * id or a loaded adapter's name (which the tenant sees).
     */
    private void checkTenantName(String name) {
        checkName("name", name);
        if (name.contains(Namespace.SEPARATOR)) {
            throw ApiException.badRequest("name", "a tenant's adapter name must not contain '" + Namespace.SEPARATOR
                    + "', which separates the tenant's name from the adapter's, got '" + name + "'");
        }
        checkFree(name);
    }

    /** Refuses (400) a name the base or a loaded adapter has. */
    private void checkFree(String name) {
        if (name.equals(baseId) || loadedNames().contains(name)) {
            throw ApiException.badRequest("name", "'" + name + "' is " + (name.equals(baseId) ? "the base's id"
                    : "an adapter loaded with /v1/load_lora_adapter") + "; register under another name");
        }
    }

    /**
     * Rolls back as {@link #rollback(String, Integer)} for {@code caller}, who names the adapter as
     * {@link Namespace} says: a tenant only its own adapters.
     *
     * @throws ApiException 404 for one the caller does not see, 403 for a shared or the admin's one it sees
     */
    public synchronized int rollback(String name, Integer expectedVersion, Caller caller) {
        registered(name, caller);
        String key = key(name, caller);
        if (!caller.admin() && !caller.tenant().equals(owner(key).tenant())) {
            throw ApiException.forbidden("name", "'" + name + "' is a shared adapter; only the admin may roll it "
                    + "back");
        }
        try {
            return rollback(key, expectedVersion);
        } catch (ApiException e) {
            throw Namespace.speak(e, key, name);
        }
    }

    /**
     * Registers the adapter in {@code dir} as the next version of {@code name}: its files are copied into the
     * store and loaded from the copy (format, method, shapes, base fingerprint checked) before anything is recorded,
     * so a bad adapter changes nothing; then dropped from memory, to be loaded when first used. The new version
     * becomes {@link AdapterRegistry#PROD} when {@code promote}.
     *
     * @param expectedVersion when not null, the latest version the caller saw (0 for none): another one is a conflict
     * @return the new version's number
     * @throws ApiException 400 naming the cause (a bad name, a name loaded by {@link #load}, a missing directory, an
     *                      adapter that cannot be read or does not fit this base); 409 naming both versions on a
     *                      conflict; 404 when the server has no state directory
     */
    public synchronized int register(String name, Path dir, boolean promote, Integer expectedVersion) {
        return register(name, dir, promote, expectedVersion, false);
    }

    /**
     * As {@link #register(String, Path, boolean, Integer)}; with {@code requireNoWorse} and {@code promote}, refused
     * (409, nothing registered) when {@code name} has a {@code prod} version already: a new version has no
     * evaluation yet, so it cannot be shown no worse. Register it with {@code promote} false, evaluate it, then move
     * {@code prod} with {@link #moveAlias}.
     */
    public synchronized int register(String name, Path dir, boolean promote, Integer expectedVersion,
                                     boolean requireNoWorse) {
        return register(name, dir, promote, expectedVersion, requireNoWorse, Residency.LAZY);
    }

    /**
     * As {@link #register(String, Path, boolean, Integer, boolean)}, keeping the adapter checked at registration in
     * the cache as {@code residency} says: dropped ({@link Residency#LAZY}), kept ({@link Residency#PRELOADED}), or
     * kept and pinned ({@link Residency#PINNED}, recorded with the version). These overloads register as the admin,
     * who names a key: {@code name} with {@code :} is a tenant's adapter ({@link Namespace}).
     */
    public synchronized int register(String name, Path dir, boolean promote, Integer expectedVersion,
                                     boolean requireNoWorse, Residency residency) {
        return register(name, dir, promote, expectedVersion, requireNoWorse, Caller.ADMIN, null, residency)
                .version();
    }

    private int register(String name, Path dir, boolean promote, Integer expectedVersion, boolean requireNoWorse,
                         Residency residency, String creator) {
        requireRegistry();
        checkName("name", name);
        checkFree(name);
        int latest = registry.latest(name);
        if (expectedVersion != null && expectedVersion != latest) {
            throw ApiException.conflict("expected_version", "expected_version is " + expectedVersion
                    + " but the latest version of '" + name + "' is " + latest);
        }
        AdapterInfo current = registered.get(name);
        Integer prod = current == null ? null : current.aliases().get(AdapterRegistry.PROD);
        if (promote && requireNoWorse && prod != null) {
            Evaluation p = current.latestEvaluation(prod);
            throw ApiException.conflict("require_no_worse", "a new version of '" + name + "' has no evaluation, so "
                    + "it cannot be shown no worse than " + AdapterRegistry.PROD + " version " + prod
                    + (p == null ? "" : " (loss " + p.loss() + " on " + p.data() + ")") + "; register it with "
                    + "\"promote\": false, evaluate it, then move " + AdapterRegistry.PROD + " to it");
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
        Adapter adapter;
        try {
            config = AdapterFiles.config(staged.dir());
            fingerprint = AdapterFiles.baseFingerprint(staged.dir());
            adapter = AdapterFiles.load(staged.dir());
            adapted.validate(key, adapter, fingerprint);
        } catch (RuntimeException e) {
            store.discard(staged);
            // the staged copy holds the same files as dir: name those the caller knows
            throw ApiException.badRequest("path", "cannot register adapter '" + name + "' from " + dir + ": "
                    + String.valueOf(e.getMessage()).replace(staged.dir().toString(), dir.toString()));
        }
        store.commit(staged);
        JsonNode rank = config.path("r");
        registry.insert(name, new AdapterVersion(version, config.path("peft_type").asText(),
                rank.canConvertToInt() ? rank.intValue() : null, staged.bytes(), fingerprint, staged.sha256(),
                System.currentTimeMillis() / 1000, creator, residency == Residency.PINNED, false),
                promote ? AdapterRegistry.PROD : null, expectedVersion);
        refresh(name);
        if (residency != Residency.LAZY) {
            cache.put(key, adapter, residency == Residency.PINNED);
        }
        return version;
    }

    /**
     * Pins version {@code version} of {@code name} (loading it now when it is not in memory) or unpins it, and records
     * that in the registry, so a restarted server loads it again. A pinned version is never evicted; an unpinned one
     * stays in memory until evicted like any other.
     *
     * @return the version as {@code GET /v1/adapters/{name}} shows it now
     * @throws ApiException 404 for an unknown name or version; 500 naming the version when it cannot be loaded (then
     *                      nothing changes)
     */
    public synchronized AdapterVersion pin(String name, int version, boolean pin) {
        requireVersion(registered(name), version, "version", false);
        String key = name + VERSION + version;
        boolean was = cache.pinned(key);
        if (pin) {
            try {
                cache.pin(key);
            } catch (IllegalStateException e) {
                throw loadFailed(e.getMessage());
            }
        }
        try {
            registry.setPinned(name, version, pin);
        } catch (RuntimeException e) {
            if (pin && !was) {
                cache.unpin(key);
            }
            throw e;
        }
        if (!pin) {
            cache.unpin(key);
        }
        refresh(name);
        return registered(name).version(version);
    }

    /**
     * A fresh directory in the adapter store's scratch space for an uploaded archive to be unpacked in before it is
     * registered; the caller deletes it.
     *
     * @throws ApiException 404 when the server has no state directory
     */
    public Path uploadDirectory() {
        requireRegistry();
        return store.scratch("upload-");
    }

    /**
     * Moves {@code name}'s {@link AdapterRegistry#PROD} back to the version it pointed at before its last move.
     *
     * @param expectedVersion when not null, the prod version the caller saw: another one is a conflict
     * @return the version prod points at now
     * @throws ApiException 404 for an unknown name; 409 on a conflict or when prod has no earlier version
     */
    public synchronized int rollback(String name, Integer expectedVersion) {
        registered(name);
        int version = registry.rollback(name, AdapterRegistry.PROD, expectedVersion);
        if (version == 0) {
            throw ApiException.conflict(null, AdapterRegistry.PROD + " of '" + name + "' has no earlier version to "
                    + "roll back to");
        }
        refresh(name);
        return version;
    }

    /**
     * Moves {@code alias} ({@code prod}, {@code canary} …) of {@code name} to {@code version}; a later rollback of it
     * undoes this move.
     *
     * @param expectedVersion when not null, the version the caller saw the alias point at (0 for unset)
     * @param requireNoWorse  for {@code prod}: refuse unless {@code version}'s latest evaluation has a loss no worse
     *                        than the current prod's latest one on the same data
     * @throws ApiException 400 for a bad alias; 404 for an unknown name or version; 409 on a conflict or a refused
     *                      promotion, naming both losses (or the evaluation missing)
     */
    public synchronized void moveAlias(String name, String alias, int version, Integer expectedVersion,
                                       boolean requireNoWorse) {
        AdapterInfo info = registered(name);
        if (alias == null || !alias.matches("[A-Za-z0-9_-]{1,64}")) {
            throw ApiException.badRequest("alias", "an alias is 1 to 64 letters, digits, '_' or '-', got '"
                    + alias + "'");
        }
        requireVersion(info, version, "version", true);
        if (requireNoWorse && alias.equals(AdapterRegistry.PROD)) {
            checkNoWorse(info, version);
        }
        registry.moveAlias(name, alias, version, expectedVersion);
        refresh(name);
    }

    /**
     * Refuses (409, with both numbers) promoting {@code candidate} of {@code info} to prod unless its latest
     * evaluation's loss is no worse than the current prod's latest one on the same data; allowed when there is no
     * prod or it is {@code candidate} already.
     */
    private static void checkNoWorse(AdapterInfo info, int candidate) {
        Integer prod = info.aliases().get(AdapterRegistry.PROD);
        if (prod == null || prod == candidate) {
            return;
        }
        String name = info.name();
        Evaluation c = info.latestEvaluation(candidate);
        if (c == null) {
            Evaluation p = info.latestEvaluation(prod);
            throw ApiException.conflict("require_no_worse", "version " + candidate + " of '" + name + "' has no "
                    + "evaluation, so it cannot be shown no worse than " + AdapterRegistry.PROD + " version " + prod
                    + (p == null ? " (which has none either)" : " (loss " + p.loss() + " on " + p.data() + ")")
                    + "; POST /v1/adapters/" + name + "/versions/" + candidate + "/evaluate first");
        }
        Evaluation p = info.latestEvaluation(prod, c);
        if (p == null) {
            throw ApiException.conflict("require_no_worse", "version " + candidate + " of '" + name + "' has loss "
                    + c.loss() + " on " + c.data() + " but " + AdapterRegistry.PROD + " version " + prod
                    + " has no evaluation on the same data to compare with; evaluate it on " + c.data() + " first");
        }
        if (c.loss() == null || (p.loss() != null && c.loss() > p.loss())) {
            throw ApiException.conflict("require_no_worse", "version " + candidate + " of '" + name + "' is worse "
                    + "than " + AdapterRegistry.PROD + " version " + prod + " on " + c.data() + ": loss " + c.loss()
                    + " against " + p.loss() + "; not promoted");
        }
    }

    /**
     * Splits the plain name's traffic between versions by weight, or clears the split when {@code weights} is empty
     * (then {@code prod} serves the name again).
     *
     * @param expectedVersion when not null, the split's revision the caller saw (0 before the first split)
     * @return the split now
     * @throws ApiException 400 for a weight below 0 or not finite, weights summing to 0, or a version that does not
     *                      exist; 404 for an unknown name; 409 on a conflict
     */
    public synchronized TrafficSplit split(String name, Map<Integer, Double> weights, Integer expectedVersion) {
        AdapterInfo info = registered(name);
        double sum = 0;
        for (Map.Entry<Integer, Double> e : weights.entrySet()) {
            requireVersion(info, e.getKey(), "versions", true);
            double w = e.getValue();
            if (!Double.isFinite(w) || w < 0) {
                throw ApiException.badRequest("versions", "the weight of version " + e.getKey() + " must be a "
                        + "finite number >= 0, got " + w);
            }
            sum += w;
        }
        if (!weights.isEmpty() && !(sum > 0)) {
            throw ApiException.badRequest("versions", "the weights must sum to more than 0");
        }
        registry.setTraffic(name, weights, expectedVersion);
        refresh(name);
        return registered.get(name).traffic();
    }

    /**
     * Evaluates version {@code version} of {@code name} on the JSON Lines file {@code data} (any training format;
     * its first {@code maxExamples} lines when not null) with {@code Evaluator}, on the caller's thread (beside the
     * running batch, whose kernels it shares the cores with), and stores the result with the version.
     *
     * @throws ApiException 404 for an unknown name or version; 400 for data that cannot be read or evaluated
     */
    public Evaluation evaluate(String name, int version, Path data, Integer maxExamples) {
        AdapterInfo info = registered(name);
        requireVersion(info, version, "version", false);
        if (maxExamples != null && maxExamples < 1) {
            throw ApiException.badRequest("max_examples", "'max_examples' must be at least 1, got " + maxExamples);
        }
        if (!Files.isRegularFile(data) || !Files.isReadable(data)) {
            throw ApiException.badRequest("data", "'data' " + data + " is not a readable file");
        }
        LlamaModel view = resolve(name + VERSION + version);
        Path file = data;
        Path scratch = null;
        String sha256;
        try {
            byte[] bytes = Files.readAllBytes(data);
            sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            if (maxExamples != null) {
                List<String> lines = new ArrayList<>();
                for (String line : new String(bytes, StandardCharsets.UTF_8).split("\\R")) {
                    if (!line.isBlank() && lines.size() < maxExamples) {
                        lines.add(line);
                    }
                }
                scratch = Files.createTempFile("tailor-eval-", ".jsonl");
                Files.write(scratch, lines, StandardCharsets.UTF_8);
                file = scratch;
            }
        } catch (IOException e) {
            throw ApiException.badRequest("data", "cannot read " + data + ": " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try {
            long t0 = System.nanoTime();
            Evaluator.Result r;
            try {
                r = new Evaluator(view, pretrained.tokenizer(), pretrained.chatTemplateIfAny())
                        .evaluate(file, null, false);
            } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
                throw ApiException.badRequest("data", "cannot evaluate " + data + ": "
                        + String.valueOf(e.getMessage()).replace(file.toString(), data.toString()));
            }
            Evaluation ev = new Evaluation(version, data.toString(), sha256, maxExamples, r.format().id(),
                    finite(r.loss()), finite(r.perplexity()), Double.isNaN(r.accuracy()) ? null : r.accuracy(),
                    r.tokens(), r.sequences(), (System.nanoTime() - t0) / 1e9, System.currentTimeMillis() / 1000);
            synchronized (this) {
                registry.insertEvaluation(name, ev);
                refresh(name);
            }
            return ev;
        } finally {
            if (scratch != null) {
                try {
                    Files.deleteIfExists(scratch);
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        }
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** Refuses a version {@code info} does not have: 404, or 400 when {@code badRequest} (a field's value). */
    private static void requireVersion(AdapterInfo info, int version, String param, boolean badRequest) {
        if (!info.has(version)) {
            String message = "adapter '" + info.name() + "' has no version " + version + " (versions "
                    + info.numbers() + ")";
            throw badRequest || version < 1 ? ApiException.badRequest(param, message)
                    : new ApiException(404, "NotFoundError", "version_not_found", param, message);
        }
    }

    /** Rereads everything the registry holds. */
    private void refresh() {
        synchronized (snapshotLock) {
            owners = Map.copyOf(tenants.owners());
            registered = Collections.unmodifiableMap(new TreeMap<>(registry.infos(null)));
        }
    }

    /** Rereads what the registry holds of {@code name} (and every owner), after a change to it. */
    private void refresh(String name) {
        synchronized (snapshotLock) {
            owners = Map.copyOf(tenants.owners());
            Map<String, AdapterInfo> now = new TreeMap<>(registered);
            AdapterInfo info = registry.infos(name).get(name);
            if (info == null) {
                now.remove(name);
            } else {
                now.put(name, info);
            }
            registered = Collections.unmodifiableMap(now);
        }
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
