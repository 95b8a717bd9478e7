package dev.tailor.generate;

import dev.tailor.model.KvCache;
import dev.tailor.model.LlamaModel;

import java.util.ArrayList;
import java.util.List;

/**
 * The KV caches of a {@link ContinuousBatcher}'s finished sequences, kept for the next ones (its batch thread's only).
 * A served request's cache lives as long as its stream, so it outlived the young collections that fell in it and was
 * copied by each, then promoted, then left in the old generation as garbage: 16 streams' caches kept ~19 MB alive in
 * every young collection, and when the collector had shrunk the survivor spaces they went to the old generation in
 * bulk, which grew until its collections stalled the streams. Pooled, a cache is allocated once and reused.
 *
 * <p>A pooled cache's capacity is the asked-for one rounded up to {@link #GRAIN} positions (at most the context), so
 * that requests of different lengths share caches; a cache of more positions gives a sequence the same results, bit for
 * bit (attention reads the positions held, whatever the stride). A reused cache is {@linkplain KvCache#reset reset}.
 * At most {@code maxFree} caches of at most {@code maxFreeBytes} in all wait in the pool; others are left to the
 * collector.
 */
final class KvCachePool {
    /** Positions a pooled cache's capacity is rounded up to a multiple of. */
    static final int GRAIN = 64;
    private final int maxFree;
    private final long maxFreeBytes;
    private final List<KvCache> free = new ArrayList<>();
    private long freeBytes;

    KvCachePool(int maxFree, long maxFreeBytes) {
        this.maxFree = maxFree;
        this.maxFreeBytes = maxFreeBytes;
    }

    /** A reset cache for {@code capacity} tokens of {@code model}: a pooled one that fits, else a new one. */
    KvCache take(LlamaModel model, int capacity) {
        int rounded = Math.min(model.contextLength(), (capacity + GRAIN - 1) / GRAIN * GRAIN);
        for (int i = free.size() - 1; i >= 0; i--) {
            KvCache c = free.get(i);
            if (c.fits(model, rounded)) {
                free.remove(i);
                freeBytes -= c.bytes();
                c.reset();
                return c;
            }
        }
        return model.newCache(Math.max(capacity, rounded));
    }

    /** Keeps {@code cache} (null: nothing) for a later {@link #take}, while the pool has room for it. */
    void give(KvCache cache) {
        if (cache == null || free.size() >= maxFree || freeBytes + cache.bytes() > maxFreeBytes) {
            return;
        }
        free.add(cache);
        freeBytes += cache.bytes();
    }

    /** Caches waiting in the pool. */
    int size() {
        return free.size();
    }
}
