package dev.tailor.model;

/**
 * Keys and values of every layer for the positions processed so far, laid out per KV head so that each
 * head's keys and values are contiguous matrices: {@code keys[layer]} is {@code [kvHeads, capacity, headDim]},
 * row p of head h holding position p (keys after RoPE).
 */
public final class KvCache {
    private final float[][] keys;
    private final float[][] values;
    private final int capacity;
    private final int kvHeads;
    private final int headDim;
    private int length;

    /** An empty cache for {@code capacity} positions of {@code config}. */
    public KvCache(ModelConfig config, int capacity) {
        this.capacity = capacity;
        this.kvHeads = config.numKvHeads();
        this.headDim = config.headDim();
        int size = Math.multiplyExact(capacity, config.kvDim());
        this.keys = new float[config.numLayers()][size];
        this.values = new float[config.numLayers()][size];
    }

    /** Positions held. */
    public int length() {
        return length;
    }

    /** Positions it can hold. */
    public int capacity() {
        return capacity;
    }

    /** Forgets every position (keeps the memory). */
    public void clear() {
        length = 0;
    }

    /** Keeps only the first {@code newLength} positions (for reusing a shared prompt prefix). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " positions to " + newLength);
        }
        length = newLength;
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    /** Offset of position {@code pos} of KV head {@code head} in a layer's keys or values. */
    int offset(int head, int pos) {
        return (head * capacity + pos) * headDim;
    }

    /**
     * Stores rows {@code [0, n)} of {@code k} and {@code v} ({@code [n, kvHeads·headDim]}) at positions
     * {@code start …} of {@code layer}.
     */
    void store(int layer, int start, int n, float[] k, float[] v) {
        int kvDim = kvHeads * headDim;
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < kvHeads; h++) {
                System.arraycopy(k, t * kvDim + h * headDim, keys[layer], offset(h, start + t), headDim);
                System.arraycopy(v, t * kvDim + h * headDim, values[layer], offset(h, start + t), headDim);
            }
        }
    }

    void advance(int positions) {
        length += positions;
    }
}
