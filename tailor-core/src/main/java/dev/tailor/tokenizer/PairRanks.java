package dev.tailor.tokenizer;

import java.util.Arrays;

/**
 * The BPE merge table: for a pair of adjacent token ids, its rank (position in {@code model.merges}) and the id
 * it merges into. An open-addressing hash table keyed by the pair packed into a long, so the merge loop does not box.
 */
final class PairRanks {
    private final long[] keys;
    private final int[] ranks;
    private final int mask;
    private final int[] mergedIds;
    private int size;

    /** A table for up to {@code capacity} merges. */
    PairRanks(int capacity) {
        int tableSize = Integer.highestOneBit(Math.max(4, capacity * 2 - 1)) << 1;
        keys = new long[tableSize];
        Arrays.fill(keys, -1L);
        ranks = new int[tableSize];
        mask = tableSize - 1;
        mergedIds = new int[capacity];
    }

    /** Adds the merge of rank {@code size()} unless the pair is already present; returns whether it was added. */
    boolean add(int left, int right, int mergedId) {
        long key = key(left, right);
        int slot = slot(key);
        while (keys[slot] != -1L) {
            if (keys[slot] == key) {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        ranks[slot] = size;
        mergedIds[size++] = mergedId;
        return true;
    }

    /** The rank of merging {@code left right}, or -1 if they do not merge. */
    int rank(int left, int right) {
        long key = key(left, right);
        int slot = slot(key);
        while (true) {
            long k = keys[slot];
            if (k == key) {
                return ranks[slot];
            }
            if (k == -1L) {
                return -1;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** The id the merge of a given rank produces. */
    int mergedId(int rank) {
        return mergedIds[rank];
    }

    /** Number of merges. */
    int size() {
        return size;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }
}
