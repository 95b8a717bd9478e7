package dev.tailor.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.tensor.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a safetensors file: add tensors and {@code __metadata__}, then {@link #write(Path)}.
 *
 * <p>Layout follows the Python {@code safetensors} library: tensors are laid out by element size (largest first)
 * then name, so every tensor starts at a multiple of its element size; the header JSON lists {@code __metadata__}
 * first and the tensors in layout order; it is padded with spaces to a multiple of 8 bytes, as the Rust library
 * does, so the data section starts 8-aligned. The file is written atomically ({@link AtomicFiles}).
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The layout order of the Python library: by element size, largest first, then by name. */
    private static final Comparator<Planned> LAYOUT = Comparator.comparingInt((Planned t) -> -t.dtype().byteSize())
            .thenComparing(Planned::name);

    private final Map<String, Entry> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    private record Entry(String name, DType dtype, long[] shape, TensorPayload payload) {
    }

    /**
     * A tensor as a file lays it out, without its values.
     *
     * @param name  its name
     * @param dtype its element type
     * @param shape its dimensions, outermost first
     */
    public record Planned(String name, DType dtype, long[] shape) {
        /** Number of elements. */
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    /**
     * The size in bytes of the file {@link #write} writes for {@code tensors} and {@code metadata}, worked out from
     * their names, types and shapes alone: the 8-byte header length, the padded header, the data.
     */
    public static long fileSize(Map<String, String> metadata, List<Planned> tensors) {
        List<Planned> order = new ArrayList<>(tensors);
        order.sort(LAYOUT);
        long data = 0;
        for (Planned t : order) {
            data = Math.addExact(data, Math.multiplyExact(t.elements(), t.dtype().byteSize()));
        }
        return 8 + header(metadata, order).length + data;
    }

    /** Adds a {@code __metadata__} entry (string to string). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds float values stored as {@code dtype}: F32 exactly, F16 or BF16 rounded to nearest even.
     *
     * @throws IllegalArgumentException if dtype is not F32/F16/BF16, the name is taken or the shape does not match
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
        if (!dtype.isWeightType()) {
            throw new IllegalArgumentException("tensor " + name + ": float values can be stored as F32, F16 or BF16, not "
                    + dtype);
        }
        return put(name, dtype, shape, new TensorPayload.Floats(values, dtype));
    }

    /** Adds F16 or BF16 bit patterns as they are. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, short[] bits) {
        if (dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("tensor " + name + ": 16-bit patterns are F16 or BF16, not " + dtype);
        }
        return put(name, dtype, shape, new TensorPayload.Shorts(bits));
    }

    /** Adds 64-bit integers (I64). */
    public SafetensorsWriter add(String name, long[] shape, long[] values) {
        return put(name, DType.I64, shape, new TensorPayload.Longs(values));
    }

    /** Adds 32-bit integers (I32). */
    public SafetensorsWriter add(String name, long[] shape, int[] values) {
        return put(name, DType.I32, shape, new TensorPayload.Ints(values));
    }

    /**
     * Adds raw little-endian bytes of {@code dtype}, e.g. a tensor's segment from a {@link TensorSource}. The segment
     * is read when the file is written, so it must still be valid then.
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment bytes) {
        if (bytes.byteSize() % dtype.byteSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": " + bytes.byteSize()
                    + " bytes is not a whole number of " + dtype + " elements");
        }
        return put(name, dtype, shape, new TensorPayload.Bytes(bytes, dtype.byteSize()));
    }

    private SafetensorsWriter put(String name, DType dtype, long[] shape, TensorPayload payload) {
        if (name.isEmpty() || name.equals("__metadata__") || tensors.containsKey(name)) {
            throw new IllegalArgumentException("tensor name \"" + name + "\" is empty, reserved or already added");
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": negative dimension in "
                        + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        if (count != payload.elements()) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " has "
                    + count + " elements but " + payload.elements() + " were given");
        }
        tensors.put(name, new Entry(name, dtype, shape.clone(), payload));
        return this;
    }

    /**
     * Writes the file atomically.
     *
     * @throws UncheckedIOException naming the file when it cannot be written (the target is then unchanged)
     */
    public void write(Path target) {
        List<Entry> order = new ArrayList<>(tensors.values());
        order.sort(Comparator.comparing(SafetensorsWriter::planned, LAYOUT));
        byte[] header = header(metadata, order.stream().map(SafetensorsWriter::planned).toList());
        try {
            AtomicFiles.write(target, ch -> {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                for (Entry e : order) {
                    e.payload().writeTo(ch);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot write safetensors file: " + e.getMessage(), e);
        }
    }

    private static Planned planned(Entry e) {
        return new Planned(e.name(), e.dtype(), e.shape());
    }

    /** The header JSON of tensors in layout order, space-padded to a multiple of 8 bytes. */
    private static byte[] header(Map<String, String> metadata, List<Planned> order) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Planned t : order) {
            ObjectNode node = root.putObject(t.name());
            node.put("dtype", t.dtype().name());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long end = offset + t.elements() * t.dtype().byteSize();
            node.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
