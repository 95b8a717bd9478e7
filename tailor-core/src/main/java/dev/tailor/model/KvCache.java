package dev.tailor.model;

/**
 * Keys and values of every layer for the positions processed so far: {@code keys[layer]} is
 * {@code [capacity, kvHeads·headDim]}, row p holding position p (after RoPE for keys).
 */
public final class KvCache {
    private final float[][] keys;
    private final float[][] values;
    private final int capacity;
    private final int kvDim;
    private int length;

    /** An empty cache for {@code capacity} positions of {@code config}. */
    public KvCache(ModelConfig config, int capacity) {
        this.capacity = capacity;
        this.kvDim = config.kvDim();
        this.keys = new float[config.numLayers()][Math.multiplyExact(capacity, kvDim)];
        this.values = new float[config.numLayers()][Math.multiplyExact(capacity, kvDim)];
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

    int kvDim() {
        return kvDim;
    }

    void advance(int positions) {
        length += positions;
    }
}
