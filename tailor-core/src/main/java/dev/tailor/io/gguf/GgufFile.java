package dev.tailor.io.gguf;

import dev.tailor.io.PlainSegments;
import dev.tailor.io.TensorFormatException;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A memory-mapped GGUF file (version 3, little-endian): header, typed metadata, tensor infos, then the tensor data
 * at {@code general.alignment} (default 32). Tensors are sliced out of the mapping, never copied.
 */
public final class GgufFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    /** The same bytes as {@link #data} as the mapped segment (null for an empty file), to release pages through. */
    private final MemorySegment mappedData;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensor> tensors;
    private final int alignment;

    private GgufFile(Path path, Arena arena, MemorySegment data, MemorySegment mappedData, GgufParser.Header header) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.mappedData = mappedData;
        this.metadata = header.metadata();
        this.tensors = header.tensors();
        this.alignment = header.alignment();
    }

    /**
     * True if {@code path} is a regular file that is, or says it is, a GGUF file: it starts with {@code GGUF} or its
     * name ends in {@code .gguf} (so a damaged {@code .gguf} file is reported as a damaged GGUF file).
     */
    public static boolean isGguf(Path path) {
        if (!Files.isRegularFile(path)) {
            return false;
        }
        if (path.getFileName() != null
                && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) {
            return true;
        }
        try (InputStream in = Files.newInputStream(path)) {
            return Arrays.equals(in.readNBytes(4), "GGUF".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Maps and validates a GGUF file: every count, length and offset of the header is checked against the file's
     * size, and every tensor's data against the data section, before anything is used.
     *
     * @throws TensorFormatException naming the file (and the key or tensor) and what is wrong
     */
    public static GgufFile open(Path path) {
        if (Files.isDirectory(path)) {
            throw new TensorFormatException(path + ": is a directory, not a GGUF file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment mapped = size == 0 ? null : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            MemorySegment all = mapped == null ? MemorySegment.NULL.reinterpret(0)
                    : PlainSegments.plainView(mapped, arena);
            GgufParser.Header header = GgufParser.parse(path, all);
            long dataStart = Math.min(header.dataStart(), size);
            MemorySegment data = all.asSlice(dataStart);
            return new GgufFile(path, arena, data, mapped == null ? null : mapped.asSlice(dataStart), header);
        } catch (IOException e) {
            arena.close();
            throw new TensorFormatException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }


    /** The path this file was mapped from. */
    public Path path() {
        return path;
    }

    /** The metadata. */
    public GgufMetadata metadata() {
        return metadata;
    }

    /** The alignment of the tensor data. */
    public int alignment() {
        return alignment;
    }

    /** The tensor infos, in file order. */
    public Collection<GgufTensor> tensors() {
        return tensors.values();
    }

    /** True if a tensor of that name exists. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The info of a tensor.
     *
     * @throws TensorFormatException naming the file and the tensor when it is missing
     */
    public GgufTensor tensor(String name) {
        GgufTensor t = tensors.get(name);
        if (t == null) {
            throw new TensorFormatException(path + ": missing tensor " + name);
        }
        return t;
    }

    /** The tensor's bytes, in place (memory-mapped). */
    public MemorySegment data(GgufTensor tensor) {
        return data.asSlice(tensor.offset(), tensor.bytes());
    }

    /**
     * Drops the tensor's pages from this process's memory ({@code madvise(MADV_DONTNEED)}), once its bytes were
     * copied; they are read again from the file if the tensor is.
     */
    public void release(GgufTensor tensor) {
        release(tensor, 0, tensor.bytes());
    }

    /**
     * {@link #release(GgufTensor)} for the tensor's bytes {@code [from, to)} (whole pages).
     *
     * @throws IndexOutOfBoundsException when the range is not within the tensor
     */
    public void release(GgufTensor tensor, long from, long to) {
        Objects.checkFromToIndex(from, to, tensor.bytes());
        if (mappedData != null && to > from) {
            mappedData.asSlice(tensor.offset() + from, to - from).unload();
        }
    }

    /** Unmaps the file. */
    @Override
    public void close() {
        arena.close();
    }
}
