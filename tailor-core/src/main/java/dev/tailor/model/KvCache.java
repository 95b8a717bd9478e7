package dev.tailor.model;

import dev.tailor.tensor.MatMulNN;
import dev.tailor.tensor.Transpose;

import java.util.Arrays;

/**
 * Keys and values of every layer for the positions processed so far, laid out per KV head for attention's two
 * products: {@code keys[layer]} holds each head's keys transposed, {@code [kvHeads, headDim, size]} (row d of head
 * h holds dimension d of every position, keys after RoPE), so that the scores {@code Q·Kᵀ} are a plain row-major
 * product whose every score is one chain of fused multiply-adds over the head's dimensions; {@code values[layer]}
 * is {@code [kvHeads, size, headDim]}, row p of head h holding position p. The keys' arrays end in
 * {@link MatMulNN#SLACK}, so the score product's last columns stay on its fast path.
 *
 * <p>A cache made for a model whose adapter adds virtual tokens (prompt or prefix tuning) reserves
 * {@link #virtualTokens()} positions at its front; the model fills them when it starts on the empty cache. They
 * are not counted by {@link #length()}, {@link #capacity()} or {@link #truncate}, which speak of the caller's
 * tokens only.
 */
public final class KvCache {
    private final float[][] keys;
    private final float[][] values;
    private final int size;
    private final int virtualTokens;
    private final int kvHeads;
    private final int headDim;
    /** Positions held, virtual ones included: 0, or at least {@code virtualTokens}. */
    private int held;

    /** An empty cache for {@code capacity} positions of {@code config}. */
    public KvCache(ModelConfig config, int capacity) {
        this(config, capacity, 0);
    }

    /** An empty cache for {@code capacity} positions of {@code config} after {@code virtualTokens} virtual ones. */
    public KvCache(ModelConfig config, int capacity, int virtualTokens) {
        if (capacity < 0 || virtualTokens < 0) {
            throw new IllegalArgumentException("a KV cache needs capacity >= 0 and virtual tokens >= 0, got "
                    + capacity + " and " + virtualTokens);
        }
        this.size = Math.addExact(capacity, virtualTokens);
        this.virtualTokens = virtualTokens;
        this.kvHeads = config.numKvHeads();
        this.headDim = config.headDim();
        int floats = Math.multiplyExact(size, config.kvDim());
        this.keys = new float[config.numLayers()][Math.addExact(floats, MatMulNN.SLACK)];
        this.values = new float[config.numLayers()][floats];
    }

    /** Positions held (the caller's tokens; virtual tokens are not counted). */
    public int length() {
        return held == 0 ? 0 : held - virtualTokens;
    }

    /** Positions it can hold (the caller's tokens, besides the virtual ones). */
    public int capacity() {
        return size - virtualTokens;
    }

    /** Positions reserved at the front for an adapter's virtual tokens. */
    public int virtualTokens() {
        return virtualTokens;
    }

    /** Forgets every position, virtual ones included (keeps the memory). */
    public void clear() {
        held = 0;
    }

    /**
     * Forgets every position and zeroes the memory: the cache is then as {@code new KvCache(…)} made it, for a new
     * sequence.
     */
    public void reset() {
        clear();
        for (int l = 0; l < keys.length; l++) {
            Arrays.fill(keys[l], 0f);
            Arrays.fill(values[l], 0f);
        }
    }

    /** Whether {@code model.newCache(capacity)} makes caches like this one: the shape, capacity and virtual tokens. */
    public boolean fits(LlamaModel model, int capacity) {
        ModelConfig c = model.config();
        return capacity() == capacity && virtualTokens == model.virtualTokens() && keys.length == c.numLayers()
                && kvHeads == c.numKvHeads() && headDim == c.headDim();
    }

    /** Bytes its keys and values take. */
    public long bytes() {
        long floats = 0;
        for (int l = 0; l < keys.length; l++) {
            floats += keys[l].length + values[l].length;
        }
        return Float.BYTES * floats;
    }

    /**
     * Keeps only the first {@code newLength} positions (for reusing a shared prompt prefix); virtual tokens
     * already stored stay.
     */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length()) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length() + " positions to "
                    + newLength);
        }
        if (held != 0) {
            held = virtualTokens + newLength;
        }
    }

    /** Positions held, virtual ones included: where the next position is stored. */
    int held() {
        return held;
    }

    /** A layer's keys, {@code [kvHeads, headDim, size]}: head h's {@code Kᵀ} from {@link #keyOffset}. */
    float[] keys(int layer) {
        return keys[layer];
    }

    /** A layer's values, {@code [kvHeads, size, headDim]}: head h's position p at {@link #offset}. */
    float[] values(int layer) {
        return values[layer];
    }

    /** Offset of head {@code head}'s transposed keys in a layer's keys; its rows are {@link #size} apart. */
    int keyOffset(int head) {
        return head * headDim * size;
    }

    /** Positions the arrays hold per head, virtual ones included: the row length of a head's transposed keys. */
    int size() {
        return size;
    }

    /** Offset of position {@code pos} of KV head {@code head} in a layer's values. */
    int offset(int head, int pos) {
        return (head * size + pos) * headDim;
    }

    /**
     * Stores rows {@code [0, n)} of {@code k} and {@code v} ({@code [n, kvHeads·headDim]}) at positions
     * {@code start …} of {@code layer}.
     */
    void store(int layer, int start, int n, float[] k, float[] v) {
        store(layer, start, n, k, v, 0);
    }

    /** Stores rows {@code [fromRow, fromRow + n)} of {@code k} and {@code v} at positions {@code start …}. */
    void store(int layer, int start, int n, float[] k, float[] v, int fromRow) {
        int kvDim = kvHeads * headDim;
        for (int h = 0; h < kvHeads; h++) {
            Transpose.transpose(k, fromRow * kvDim + h * headDim, kvDim, n, headDim, keys[layer],
                    keyOffset(h) + start, size, false);
        }
        for (int t = 0; t < n; t++) {
            int row = (fromRow + t) * kvDim;
            for (int h = 0; h < kvHeads; h++) {
                System.arraycopy(v, row + h * headDim, values[layer], offset(h, start + t), headDim);
            }
        }
    }

    /** Counts {@code positions} more as held (virtual ones included). */
    void advance(int positions) {
        held += positions;
    }
}
