package dev.tailor.io.gguf;

import dev.tailor.io.StoredRows;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.io.TensorSource;
import dev.tailor.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The tensors of a GGUF model under their Hugging Face names and in Hugging Face's layout, so the model binds as a
 * safetensors checkpoint does. Tensors of every type the kernels multiply (F32, F16, BF16, Q8_0, Q4_0 and the
 * K-quants Q4_K, Q5_K, Q6_K: {@link DType#hasKernels()}) are read in place from the mapping, in their own type.
 * For llama and mistral the rows of Q and K are put back in Hugging Face's order (llama.cpp's converter interleaves
 * each head's two RoPE halves): a copy of the permuted tensors only, whole rows (so whole blocks) in their own type.
 * The file's pages of a copied tensor are {@linkplain GgufFile#release released}; a reader that regroups the rows
 * anyway reads them as stored ({@link #storedRows}), and the copy is then made only if something reads it.
 */
public final class GgufTensorSource implements TensorSource {
    private final GgufFile file;
    private final Map<String, Entry> entries;
    /** The copied (un-permuted) tensors, each in its own arena so that {@link #release} can free it. */
    private final Map<String, Copy> materialized = new HashMap<>();

    private record Copy(Arena arena, MemorySegment data) {
    }

    /** One tensor: its GGUF info, its Hugging Face info, and how many rows make one head when permuted (else 0). */
    private record Entry(GgufTensor gguf, TensorInfo info, int permutedHeads) {
        boolean inPlace() {
            return permutedHeads == 0;
        }
    }

    private GgufTensorSource(GgufFile file, Map<String, Entry> entries) {
        this.file = file;
        this.entries = entries;
    }

    /**
     * Opens a GGUF model file.
     *
     * @throws TensorFormatException naming the file and what is wrong with it, or the tensor whose rows cannot be
     *                               split into its heads
     */
    public static GgufTensorSource open(Path path) {
        GgufFile file = GgufFile.open(path);
        try {
            return new GgufTensorSource(file, entries(file));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static Map<String, Entry> entries(GgufFile file) {
        String arch = GgufConfig.architecture(file);
        boolean permuted = GgufConfig.permutesQueryKey(arch);
        int heads = file.metadata().positiveInt(arch + ".attention.head_count");
        int kvHeads = file.metadata().has(arch + ".attention.head_count_kv")
                ? file.metadata().positiveInt(arch + ".attention.head_count_kv") : heads;
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (GgufTensor t : file.tensors()) {
            if (t.name().equals(GgufNames.ROPE_FREQS)) {
                continue;
            }
            String name = GgufNames.huggingFace(t.name());
            int permutedHeads = 0;
            if (permuted && GgufNames.isQueryOrKey(t.name())) {
                permutedHeads = GgufNames.isKey(t.name()) ? kvHeads : heads;
                long rows = t.shape()[0];
                if (rows % (2L * permutedHeads) != 0) {
                    throw new TensorFormatException(file.path() + ": tensor " + t.name() + " has " + rows
                            + " rows, which do not split into " + permutedHeads + " heads of two RoPE halves");
                }
            }
            long begin = permutedHeads == 0 ? t.offset() : 0;
            entries.put(name, new Entry(t, new TensorInfo(name, t.type().dtype(), t.shape(), begin,
                    begin + t.bytes()), permutedHeads));
        }
        return Collections.unmodifiableMap(entries);
    }

    /** The GGUF file. */
    public GgufFile file() {
        return file;
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    @Override
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return entry(name).info();
    }

    @Override
    public MemorySegment data(String name) {
        Entry e = entry(name);
        if (e.inPlace()) {
            return file.data(e.gguf());
        }
        synchronized (materialized) {
            return materialized.computeIfAbsent(name, n -> materialize(e)).data();
        }
    }

    private Copy materialize(Entry e) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment dst = arena.allocate(e.info().byteSize(), 64);
            copyRows(e, dst);
            file.release(e.gguf());
            return new Copy(arena, dst);
        } catch (RuntimeException ex) {
            arena.close();
            throw ex;
        }
    }

    /** Writes {@code e}'s rows into {@code dst} in Hugging Face's order, in their own type. */
    private void copyRows(Entry e, MemorySegment dst) {
        GgufTensor t = e.gguf();
        MemorySegment src = file.data(t);
        long rows = t.elementCount() / t.dims()[0];
        int cols = Math.toIntExact(t.dims()[0]);
        long rowBytes = t.type().bytesFor(cols);
        for (long r = 0; r < rows; r++) {
            long from = e.permutedHeads() == 0 ? r : GgufTensorLayout.storedRow(r, rows / e.permutedHeads());
            MemorySegment.copy(src, from * rowBytes, dst, r * rowBytes, rowBytes);
        }
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new TensorFormatException(file.path() + ": missing tensor " + name);
        }
        return e;
    }

    /** Releases the file's pages of the tensor and frees its copy, if it has one (made again if it is read). */
    @Override
    public void release(String name) {
        file.release(entry(name).gguf());
        synchronized (materialized) {
            Copy copy = materialized.remove(name);
            if (copy != null) {
                copy.arena().close();
            }
        }
    }

    /**
     * Drops the file's pages of a tensor: of its bytes as stored, for a tensor whose rows are un-permuted into a copy
     * ({@link #storedRows}), which is kept.
     */
    @Override
    public void dropMappedPages(String name, long from, long to) {
        file.release(entry(name).gguf(), from, to);
    }

    /** For Q and K of llama and mistral: the rows as the file stores them, each head's two RoPE halves interleaved. */
    @Override
    public StoredRows storedRows(String name) {
        Entry e = entry(name);
        if (e.inPlace()) {
            return null;
        }
        GgufTensor t = e.gguf();
        long rowsPerHead = t.elementCount() / t.dims()[0] / e.permutedHeads();
        return new StoredRows(file.data(t), r -> (int) GgufTensorLayout.storedRow(r, rowsPerHead));
    }

    /** True but for the tensors whose rows are un-permuted into a copy. */
    @Override
    public boolean mappedInPlace(String name) {
        return entry(name).inPlace();
    }

    @Override
    public Path file(String name) {
        return file.path();
    }

    @Override
    public void close() {
        synchronized (materialized) {
            materialized.values().forEach(c -> c.arena().close());
            materialized.clear();
        }
        file.close();
    }
}
