package dev.tailor.serve;

import dev.tailor.adapt.AdaptedModel;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterSize;
import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.model.LlamaModel;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * The registry's versions in memory, an LRU cache with a byte budget: a version ({@code name@n}) is read from the
 * adapter store on first use and added to the {@link AdaptedModel}; when the bytes of the loaded versions' tensors
 * ({@link AdapterSize#bytes}) pass the budget, the least recently used unpinned ones are evicted (deleted from the
 * adapted model, with every view that stacked them). Pinned versions are never evicted.
 *
 * <p>A request never fails, and never waits, for lack of room. The versions it needs are loaded (each once, however
 * many requests ask for it at the same time), its view is made, and only then are versions evicted until the cache
 * is within its budget again, the request's own last: a request whose versions do not fit beside the pinned ones
 * still runs, and its versions leave the cache as soon as it has its view. A view holds its adapters' tensors itself,
 * so a request keeps running on a version evicted meanwhile; that memory is freed when the last such request ends.
 * The cache holds more than its budget only when the pinned versions alone pass it.
 *
 * <p>Thread safety: every method may be called from any thread. Loading runs outside the cache's lock, so a cold
 * load never holds up a request for versions already in memory.
 */
final class AdapterCache {
    /** Reads a version's adapter from the adapter store. */
    interface Source {
        /**
         * The adapter of version {@code key} ({@code name@n}) with the base fingerprint its files record (or null).
         *
         * @throws RuntimeException naming the files when it cannot be read
         */
        Loaded load(String key);
    }

    /**
     * A version's adapter as read.
     *
     * @param adapter     the adapter
     * @param fingerprint the base fingerprint its files record, or null
     */
    record Loaded(Adapter adapter, String fingerprint) {
    }

    /** A version in memory and the bytes of its tensors. */
    private record Entry(Adapter adapter, long bytes) {
    }

    private final AdaptedModel adapted;
    private final long budget;
    private final Source source;
    /** The versions in memory, least recently used first. Guarded by {@code this}, as are the fields below. */
    private final LinkedHashMap<String, Entry> resident = new LinkedHashMap<>(16, 0.75f, true);
    private final Set<String> pinned = new HashSet<>();
    /** The loads under way, so that requests asking for the same cold version at once share one load. */
    private final Map<String, CompletableFuture<Loaded>> loading = new HashMap<>();
    private long bytes;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final List<LongConsumer> loadObservers = new CopyOnWriteArrayList<>();

    /**
     * An empty cache over {@code adapted}, holding up to {@code budget} bytes of tensors, reading versions from
     * {@code source}.
     *
     * @throws InvalidOptionException naming {@code adapter_cache_bytes} when the budget is below 1
     */
    AdapterCache(AdaptedModel adapted, long budget, Source source) {
        if (budget < 1) {
            throw new InvalidOptionException("adapter_cache_bytes", "adapter_cache_bytes must be >= 1, got " + budget);
        }
        this.adapted = adapted;
        this.budget = budget;
        this.source = source;
    }

    /** Whether {@code key} names a version this cache holds ({@code name@n}) rather than an adapter loaded by name. */
    static boolean isVersion(String key) {
        return key.contains(ServedModels.VERSION);
    }

    /**
     * The view of the adapted model with {@code keys} stacked in order ({@link AdaptedModel#model(List)}), loading
     * the versions among them that are not in memory, then evicting down to the budget. Each version among the keys
     * counts as a hit when it is in memory and a miss when it has to be loaded.
     *
     * @throws IllegalArgumentException as {@link AdaptedModel#model(List)}: an unknown or repeated adapter
     * @throws IllegalStateException    naming the version when one cannot be loaded
     */
    LlamaModel view(List<String> keys) {
        List<String> versions = keys.stream().filter(AdapterCache::isVersion).distinct().toList();
        Map<String, Adapter> inHand = new HashMap<>();
        List<String> missing = new ArrayList<>();
        synchronized (this) {
            for (String key : versions) {
                Entry e = resident.get(key);
                if (e == null) {
                    missing.add(key);
                } else {
                    inHand.put(key, e.adapter());
                }
            }
            hits.add(versions.size() - missing.size());
            misses.add(missing.size());
            if (missing.isEmpty()) {
                return adapted.model(keys);
            }
        }
        for (String key : missing) {
            inHand.put(key, load(key).adapter());
        }
        synchronized (this) {
            try {
                for (String key : versions) {
                    // one evicted since it was found in memory comes back from the hand: no second load
                    if (resident.get(key) == null) {
                        admit(key, inHand.get(key));
                    }
                }
                return adapted.model(keys);
            } finally {
                trim();
            }
        }
    }

    /**
     * Puts {@code adapter}, just read and checked, in memory as version {@code key} (the most recently used), pinned
     * when {@code pin}; then evicts down to the budget.
     */
    synchronized void put(String key, Adapter adapter, boolean pin) {
        if (resident.get(key) == null) {
            admit(key, adapter);
        }
        if (pin) {
            pinned.add(key);
        }
        trim();
    }

    /**
     * Pins version {@code key}, loading it when it is not in memory.
     *
     * @throws IllegalStateException naming the version when it cannot be loaded (then nothing changes)
     */
    void pin(String key) {
        synchronized (this) {
            if (resident.get(key) != null) {
                pinned.add(key);
                return;
            }
        }
        put(key, load(key).adapter(), true);
    }

    /** Unpins version {@code key}: it stays in memory until evicted like any other. */
    synchronized void unpin(String key) {
        pinned.remove(key);
        trim();
    }

    /** Whether version {@code key} is in memory. */
    synchronized boolean loaded(String key) {
        return resident.containsKey(key);
    }

    /** Whether version {@code key} is pinned. */
    synchronized boolean pinned(String key) {
        return pinned.contains(key);
    }

    /** The bytes of the tensors of the versions in memory. */
    synchronized long bytes() {
        return bytes;
    }

    /** How many versions are in memory. */
    synchronized int size() {
        return resident.size();
    }

    /** The budget, in bytes. */
    long budget() {
        return budget;
    }

    /** Versions found in memory by {@link #view}. */
    long hits() {
        return hits.sum();
    }

    /** Versions {@link #view} had to load. */
    long misses() {
        return misses.sum();
    }

    /** Versions evicted to keep within the budget. */
    long evictions() {
        return evictions.sum();
    }

    /** Tells {@code observer} how long each load from the store takes from now on, in nanoseconds. */
    void onLoad(LongConsumer observer) {
        loadObservers.add(observer);
    }

    /**
     * Reads and checks version {@code key}, or waits for the load of it under way.
     *
     * @throws IllegalStateException naming the version when it cannot be loaded
     */
    private Loaded load(String key) {
        CompletableFuture<Loaded> future;
        boolean mine = false;
        synchronized (this) {
            future = loading.get(key);
            if (future == null) {
                future = new CompletableFuture<>();
                loading.put(key, future);
                mine = true;
            }
        }
        if (mine) {
            try {
                long t0 = System.nanoTime();
                Loaded loaded = source.load(key);
                adapted.validate(key, loaded.adapter(), loaded.fingerprint());
                long nanos = System.nanoTime() - t0;
                loadObservers.forEach(o -> o.accept(nanos));
                future.complete(loaded);
            } catch (RuntimeException | Error e) {
                future.completeExceptionally(e);
            } finally {
                synchronized (this) {
                    loading.remove(key);
                }
            }
        }
        try {
            return future.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException("registered adapter " + key + " cannot be loaded: "
                    + cause.getMessage(), cause);
        }
    }

    /**
     * Adds {@code adapter} as version {@code key}, the most recently used, in its {@link Adapter#forInference} form
     * (versions never change), counting what that holds beside the tensors. Under the lock.
     */
    private void admit(String key, Adapter adapter) {
        Adapter served = adapter.forInference();
        adapted.add(key, served, null);
        long size = AdapterSize.bytes(served);
        resident.put(key, new Entry(served, size));
        bytes += size;
    }

    /** Evicts the least recently used unpinned versions until the cache is within its budget. Under the lock. */
    private void trim() {
        Iterator<Map.Entry<String, Entry>> it = resident.entrySet().iterator();
        while (bytes > budget && it.hasNext()) {
            Map.Entry<String, Entry> e = it.next();
            if (!pinned.contains(e.getKey())) {
                it.remove();
                bytes -= e.getValue().bytes();
                adapted.delete(e.getKey());
                evictions.increment();
            }
        }
    }
}
