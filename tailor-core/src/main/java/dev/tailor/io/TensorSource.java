package dev.tailor.io;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Set;

/**
 * Named tensors read in place: one safetensors file, or a sharded checkpoint seen as one.
 * Segments stay valid until {@link #close()}.
 */
public interface TensorSource extends AutoCloseable {

    /** Names of all tensors. */
    Set<String> names();

    /** True if a tensor of that name exists. */
    boolean contains(String name);

    /**
     * The header entry of a tensor.
     *
     * @throws TensorFormatException naming the file(s) and the tensor when it is missing
     */
    TensorInfo info(String name);

    /** The tensor's bytes, in place (memory-mapped); never copied. */
    MemorySegment data(String name);

    /**
     * Tells the source that the tensor's bytes were copied and are not needed in memory: a mapped file may drop its
     * pages from the process's resident memory (they are read again if the tensor is). Does nothing by default.
     */
    default void release(String name) {
    }

    /**
     * Drops the tensor's pages from the process's resident memory where its bytes are mapped in place from a file
     * ({@code madvise(MADV_DONTNEED)}), for a caller that keeps its own copy in another layout: the bytes stay valid
     * and are read again from the file if used. Unlike {@link #release}, never frees anything; does nothing for bytes
     * held in memory (copies, quantized tensors) and by default.
     */
    default void dropMappedPages(String name) {
        dropMappedPages(name, 0, info(name).byteSize());
    }

    /**
     * {@link #dropMappedPages(String)} for the tensor's bytes {@code [from, to)}, for a copy made a part at a time;
     * whole pages, so those at the range's ends may hold bytes outside it (read again from the file if used).
     *
     * @throws IndexOutOfBoundsException where the source drops pages and the range is not within the tensor
     */
    default void dropMappedPages(String name, long from, long to) {
    }

    /**
     * Whether the tensor's bytes ({@link #data}) are its file's pages mapped in place, so that
     * {@link #dropMappedPages} takes them out of memory: false for bytes held in memory (copies, tensors quantized at
     * load) and by default.
     */
    default boolean mappedInPlace(String name) {
        return false;
    }

    /**
     * For a tensor whose rows {@link #data} gives in another order than the file stores them (a copy in the model's
     * order, such as GGUF's Q and K): the stored bytes, mapped in place, and which stored row holds each row, so that
     * a reader regrouping the rows anyway reads them there and the copy is made only if something reads {@code data};
     * {@link #dropMappedPages} then drops pages of the stored bytes. Null (the default) when {@code data} is the
     * bytes as stored, or a copy made otherwise.
     */
    default StoredRows storedRows(String name) {
        return null;
    }

    /** The file holding the tensor (for error messages). */
    Path file(String name);

    /** Unmaps the files. */
    @Override
    void close();
}
