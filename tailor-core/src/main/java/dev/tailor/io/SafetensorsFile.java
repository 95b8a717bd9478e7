package dev.tailor.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A memory-mapped safetensors file: 8-byte little-endian header length N, N bytes of JSON header,
 * then the data. Tensors are sliced out of the mapping, never copied.
 */
public final class SafetensorsFile implements TensorSource {
    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    /** The same bytes as {@link #data} as the mapped segment, to {@linkplain #release release} pages through. */
    private final MemorySegment mappedData;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, MemorySegment mappedData,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.mappedData = mappedData;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Maps and validates a safetensors file. The header length is checked against the file size before anything
     * is read, so a corrupt length fails at once instead of allocating what it claims.
     *
     * @throws TensorFormatException naming the file (and the tensor) and what is wrong
     */
    public static SafetensorsFile open(Path path) {
        if (Files.isDirectory(path)) {
            throw new TensorFormatException(path + ": is a directory, not a safetensors file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new TensorFormatException(path + ": too short for a safetensors file (" + size + " bytes)");
            }
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            MemorySegment all = PlainSegments.plainView(mapped, arena);
            long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen < 2 || headerLen > size - 8) {
                throw new TensorFormatException(path + ": header length " + Long.toUnsignedString(headerLen)
                        + " does not fit the file's " + size + " bytes (needs 2 to " + (size - 8) + ")");
            }
            if (headerLen > SafetensorsHeader.MAX_HEADER_BYTES) {
                throw new TensorFormatException(path + ": header length " + headerLen + " exceeds the limit of "
                        + SafetensorsHeader.MAX_HEADER_BYTES + " bytes");
            }
            byte[] headerBytes = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment data = all.asSlice(8 + headerLen);
            SafetensorsHeader header = SafetensorsHeader.parse(path, headerBytes, data.byteSize());
            return new SafetensorsFile(path, arena, data, mapped.asSlice(8 + headerLen), header.tensors(),
                    header.metadata());
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

    /** The header's {@code __metadata__} (string to string). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new TensorFormatException(path + ": missing tensor " + name);
        }
        return info;
    }

    @Override
    public MemorySegment data(String name) {
        TensorInfo info = info(name);
        return data.asSlice(info.begin(), info.byteSize());
    }

    /** Drops the tensor's pages from this process's memory ({@code madvise(MADV_DONTNEED)}); they read back on use. */
    @Override
    public void release(String name) {
        TensorInfo info = info(name);
        if (info.byteSize() > 0) {
            mappedData.asSlice(info.begin(), info.byteSize()).unload();
        }
    }

    /** As {@link #release} does for a whole tensor: this file's tensors are always in place. */
    @Override
    public void dropMappedPages(String name, long from, long to) {
        TensorInfo info = info(name);
        Objects.checkFromToIndex(from, to, info.byteSize());
        if (to > from) {
            mappedData.asSlice(info.begin() + from, to - from).unload();
        }
    }

    /** For every tensor it has: this file's tensors are its mapped bytes. */
    @Override
    public boolean mappedInPlace(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Path file(String name) {
        return path;
    }

    @Override
    public void close() {
        arena.close();
    }
}
