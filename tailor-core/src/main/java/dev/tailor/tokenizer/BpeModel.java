package dev.tailor.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code model} of type BPE: a vocabulary, merges by rank, and what to do with characters outside the
 * vocabulary ({@code byte_fallback} to {@code <0xNN>} tokens, else {@code unk_token}, fused when {@code fuse_unk}).
 * Encodes one pre-token word at a time with the merge loop of the {@code tokenizers} library: all mergeable
 * adjacent pairs in a priority queue ordered by (rank, position), applied on a linked list of symbols. Results
 * are cached per word.
 */
final class BpeModel {
    private static final int CACHE_LIMIT = 200_000;
    private static final int CACHED_WORD_MAX_CHARS = 256;

    private final String[] tokens;
    private final Map<String, Integer> vocab;
    private final PairRanks merges;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    private final int[] bmpIds = new int[65536];
    private final int[] byteIds = new int[256];
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * A model over {@code vocab} (token → id) with merges given as pairs of ids and the ids they merge into.
     *
     * @param unkId -1 if there is no unknown token
     */
    BpeModel(Map<String, Integer> vocab, String[] tokens, PairRanks merges, int unkId, boolean fuseUnk,
             boolean byteFallback, boolean ignoreMerges) {
        this.vocab = vocab;
        this.tokens = tokens;
        this.merges = merges;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        Arrays.fill(bmpIds, -1);
        Arrays.fill(byteIds, -1);
        for (int id = 0; id < tokens.length; id++) {
            String t = tokens[id];
            if (t != null && t.length() == 1) {
                bmpIds[t.charAt(0)] = id;
            }
        }
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(byteToken(b));
            byteIds[b] = id == null ? -1 : id;
        }
    }

    /** The token string of a byte-fallback token, e.g. {@code <0x0A>}. */
    static String byteToken(int b) {
        return String.format("<0x%02X>", b);
    }

    /** The byte a token stands for if it is a byte-fallback token {@code <0xNN>}, else -1. */
    static int byteOfToken(String token) {
        if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(token.charAt(3), 16);
        int lo = Character.digit(token.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** The vocabulary, token → id. */
    Map<String, Integer> vocab() {
        return vocab;
    }

    /** Token strings by id (null where no token has that id). */
    String[] tokens() {
        return tokens;
    }

    /** Whether byte fallback is on. */
    boolean byteFallback() {
        return byteFallback;
    }

    /** Appends the ids of one word to {@code out}. */
    void encodeWord(String word, IntList out) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        boolean cacheable = word.length() <= CACHED_WORD_MAX_CHARS;
        if (cacheable) {
            int[] cached = cache.get(word);
            if (cached != null) {
                out.addAll(cached);
                return;
            }
        }
        int[] ids = merge(initialSymbols(word));
        if (cacheable) {
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(word, ids);
        }
        out.addAll(ids);
    }

    /** One symbol per character, or its byte tokens, or the (fused) unknown token; unknowns are dropped without one. */
    private IntList initialSymbols(String word) {
        IntList symbols = new IntList(word.length());
        boolean lastUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int n = Character.charCount(cp);
            int id = n == 1 ? bmpIds[cp] : idOf(word.substring(i, i + n));
            i += n;
            if (id >= 0) {
                symbols.add(id);
                lastUnk = false;
                continue;
            }
            if (byteFallback && appendBytes(cp, symbols)) {
                lastUnk = false;
                continue;
            }
            if (unkId >= 0 && !(fuseUnk && lastUnk)) {
                symbols.add(unkId);
            }
            lastUnk = unkId >= 0;
        }
        return symbols;
    }

    private int idOf(String s) {
        Integer id = vocab.get(s);
        return id == null ? -1 : id;
    }

    private boolean appendBytes(int cp, IntList symbols) {
        byte[] bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            if (byteIds[b & 0xFF] < 0) {
                return false;
            }
        }
        for (byte b : bytes) {
            symbols.add(byteIds[b & 0xFF]);
        }
        return true;
    }

    /** Applies merges lowest rank first (ties: leftmost first) on a linked list of symbols. */
    private int[] merge(IntList symbols) {
        int n = symbols.size();
        int[] ids = symbols.toArray();
        if (n < 2) {
            return ids;
        }
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongHeap queue = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            push(queue, ids[i], ids[i + 1], i);
        }
        int alive = n;
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            int right = next[pos];
            if (dead[pos] || right < 0 || merges.rank(ids[pos], ids[right]) != rank) {
                continue;
            }
            ids[pos] = merges.mergedId(rank);
            dead[right] = true;
            alive--;
            int after = next[right];
            next[pos] = after;
            if (after >= 0) {
                prev[after] = pos;
                push(queue, ids[pos], ids[after], pos);
            }
            if (prev[pos] >= 0) {
                push(queue, ids[prev[pos]], ids[pos], prev[pos]);
            }
        }
        int[] result = new int[alive];
        for (int i = 0, k = 0; i >= 0; i = next[i]) {
            result[k++] = ids[i];
        }
        return result;
    }

    private void push(LongHeap queue, int left, int right, int pos) {
        int rank = merges.rank(left, right);
        if (rank >= 0) {
            queue.add(((long) rank << 32) | pos);
        }
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] heap;
        private int size;

        LongHeap(int capacity) {
            heap = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void add(long value) {
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= value) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = value;
        }

        long poll() {
            long top = heap[0];
            long last = heap[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < size && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (last <= heap[child]) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }
}
