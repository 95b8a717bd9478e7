package dev.tailor.io.gguf;

import dev.tailor.io.AtomicFiles;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF file (version 3, little-endian) as llama.cpp's {@code gguf} library does: header, the metadata in
 * the order it was put (putting a key again moves it to the end, as {@code gguf_set_val_*} does), the tensor infos,
 * zero padding to {@code general.alignment} (32 unless set), then each tensor's data, each padded to the alignment.
 * The file is written atomically ({@link AtomicFiles}); tensors are made one at a time, when written.
 */
public final class GgufWriter {
    /** The default alignment of the tensor data. */
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_CHUNK = 1 << 30;

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    /** Fills a tensor's bytes. */
    @FunctionalInterface
    public interface TensorData {
        /** Writes the tensor's bytes (exactly {@code dst.byteSize()} of them) into {@code dst}. */
        void fill(MemorySegment dst);
    }

    /** A metadata value: its GGUF value type and its encoded bytes. */
    private record Value(int type, byte[] bytes) {
    }

    private record Tensor(String name, GgmlType type, long[] dims, TensorData data) {
        long bytes() {
            long n = 1;
            for (long d : dims) {
                n = Math.multiplyExact(n, d);
            }
            return type.bytesFor(n);
        }
    }

    /** GGUF value types ({@code enum gguf_type}). */
    private static final int UINT32 = 4;
    private static final int INT32 = 5;
    private static final int FLOAT32 = 6;
    private static final int BOOL = 7;
    private static final int STRING = 8;
    private static final int ARRAY = 9;
    private static final int UINT64 = 10;
    private static final int FLOAT64 = 12;

    /** Puts a {@code UINT32} value. */
    public GgufWriter putUint32(String key, long value) {
        if (value < 0 || value > 0xFFFFFFFFL) {
            throw new IllegalArgumentException(key + ": " + value + " does not fit a uint32");
        }
        return put(key, UINT32, buffer(4).putInt((int) value));
    }

    /** Puts an {@code INT32} value. */
    public GgufWriter putInt32(String key, int value) {
        return put(key, INT32, buffer(4).putInt(value));
    }

    /** Puts a {@code UINT64} value. */
    public GgufWriter putUint64(String key, long value) {
        return put(key, UINT64, buffer(8).putLong(value));
    }

    /** Puts a {@code FLOAT32} value. */
    public GgufWriter putFloat32(String key, float value) {
        return put(key, FLOAT32, buffer(4).putFloat(value));
    }

    /** Puts a {@code FLOAT64} value. */
    public GgufWriter putFloat64(String key, double value) {
        return put(key, FLOAT64, buffer(8).putDouble(value));
    }

    /** Puts a {@code BOOL} value. */
    public GgufWriter putBool(String key, boolean value) {
        return put(key, BOOL, buffer(1).put((byte) (value ? 1 : 0)));
    }

    /** Puts a {@code STRING} value. */
    public GgufWriter putString(String key, String value) {
        byte[] s = value.getBytes(StandardCharsets.UTF_8);
        return put(key, STRING, buffer(8 + s.length).putLong(s.length).put(s));
    }

    /** Puts an array of strings. */
    public GgufWriter putStrings(String key, List<String> values) {
        List<byte[]> encoded = new ArrayList<>(values.size());
        int size = 12;
        for (String v : values) {
            byte[] s = v.getBytes(StandardCharsets.UTF_8);
            encoded.add(s);
            size = Math.addExact(size, 8 + s.length);
        }
        ByteBuffer b = arrayHeader(size, STRING, values.size());
        for (byte[] s : encoded) {
            b.putLong(s.length).put(s);
        }
        return put(key, ARRAY, b);
    }

    /** Puts an array of {@code FLOAT32}. */
    public GgufWriter putFloats(String key, float[] values) {
        ByteBuffer b = arrayHeader(12 + 4 * values.length, FLOAT32, values.length);
        for (float v : values) {
            b.putFloat(v);
        }
        return put(key, ARRAY, b);
    }

    /** Puts an array of {@code INT32}. */
    public GgufWriter putInts(String key, int[] values) {
        ByteBuffer b = arrayHeader(12 + 4 * values.length, INT32, values.length);
        for (int v : values) {
            b.putInt(v);
        }
        return put(key, ARRAY, b);
    }

    /** Removes a key, if present. */
    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /** True if the key has been put. */
    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /**
     * Adds a tensor.
     *
     * @param name the GGUF name
     * @param type its type
     * @param dims its dimensions in ggml's order (innermost, the row length, first); the row length must be a whole
     *             number of the type's blocks
     * @param data fills its bytes, when the file is written
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, TensorData data) {
        if (dims.length == 0 || dims.length > 4 || dims[0] % type.blockValues() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": " + dims.length + " dimensions, rows of "
                    + (dims.length == 0 ? 0 : dims[0]) + " values do not fit " + type);
        }
        for (Tensor t : tensors) {
            if (t.name().equals(name)) {
                throw new IllegalArgumentException("tensor " + name + " added twice");
            }
        }
        tensors.add(new Tensor(name, type, dims.clone(), data));
        return this;
    }

    /**
     * Writes the file atomically.
     *
     * @throws IOException from the file system; the target is then unchanged
     */
    public void write(Path target) throws IOException {
        int alignment = alignment();
        byte[] header = header(alignment);
        AtomicFiles.write(target, ch -> {
            writeFully(ch, ByteBuffer.wrap(header));
            writeFully(ch, ByteBuffer.allocate(pad(header.length, alignment)));
            for (Tensor t : tensors) {
                long bytes = t.bytes();
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment data = arena.allocate(Math.max(1, bytes), 64).asSlice(0, bytes);
                    t.data().fill(data);
                    for (long at = 0; at < bytes; at += MAX_CHUNK) {
                        writeFully(ch, data.asSlice(at, Math.min(MAX_CHUNK, bytes - at)).asByteBuffer());
                    }
                }
                writeFully(ch, ByteBuffer.allocate(pad(bytes, alignment)));
            }
        });
    }

    private int alignment() {
        Value v = metadata.get("general.alignment");
        if (v == null) {
            return DEFAULT_ALIGNMENT;
        }
        int a = v.type() == UINT32 ? ByteBuffer.wrap(v.bytes()).order(ByteOrder.LITTLE_ENDIAN).getInt() : 0;
        if (a <= 0 || Integer.bitCount(a) != 1) {
            throw new IllegalArgumentException("general.alignment must be a uint32 power of two");
        }
        return a;
    }

    private byte[] header(int alignment) {
        GrowingBuffer b = new GrowingBuffer();
        b.put("GGUF".getBytes(StandardCharsets.US_ASCII));
        b.putInt(3);
        b.putLong(tensors.size());
        b.putLong(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            b.putString(e.getKey());
            b.putInt(e.getValue().type());
            b.put(e.getValue().bytes());
        }
        long offset = 0;
        for (Tensor t : tensors) {
            b.putString(t.name());
            b.putInt(t.dims().length);
            for (long d : t.dims()) {
                b.putLong(d);
            }
            b.putInt(t.type().id());
            b.putLong(offset);
            offset = Math.addExact(offset, t.bytes());
            offset = Math.addExact(offset, pad(offset, alignment));
        }
        return b.toArray();
    }

    private static int pad(long length, int alignment) {
        return (int) ((alignment - length % alignment) % alignment);
    }

    private GgufWriter put(String key, int type, ByteBuffer value) {
        metadata.remove(key);
        metadata.put(key, new Value(type, value.array()));
        return this;
    }

    private static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer arrayHeader(int size, int elementType, int count) {
        return buffer(size).putInt(elementType).putLong(count);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** A little-endian byte buffer that grows as it is written. */
    private static final class GrowingBuffer {
        private ByteBuffer buffer = buffer(1 << 16);

        void ensure(int more) {
            if (buffer.remaining() < more) {
                ByteBuffer bigger = buffer(Math.max(buffer.capacity() * 2, buffer.position() + more));
                buffer.flip();
                bigger.put(buffer);
                buffer = bigger;
            }
        }

        void put(byte[] bytes) {
            ensure(bytes.length);
            buffer.put(bytes);
        }

        void putInt(int v) {
            ensure(4);
            buffer.putInt(v);
        }

        void putLong(long v) {
            ensure(8);
            buffer.putLong(v);
        }

        void putString(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            putLong(bytes.length);
            put(bytes);
        }

        byte[] toArray() {
            byte[] out = new byte[buffer.position()];
            buffer.get(0, out);
            return out;
        }
    }
}
