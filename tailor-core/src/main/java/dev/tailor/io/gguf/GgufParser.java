package dev.tailor.io.gguf;

import dev.tailor.io.TensorFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a GGUF header from the start of the mapped file: every length, count and offset is checked against the
 * bytes left before it is used, so a corrupt or hostile file fails with a message instead of allocating what it
 * claims or reading past the end.
 */
final class GgufParser {
    /** {@code GGUF} as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    /** The version Tailor reads. */
    static final int VERSION = 3;
    /** {@code general.alignment} when absent. */
    static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's {@code GGML_MAX_DIMS}. */
    static final int MAX_DIMS = 4;
    /** Arrays of arrays deeper than this are refused (no real file nests at all). */
    private static final int MAX_NESTING = 4;
    /** Bytes a tensor info takes at least: name length, n_dims, one dim, type, offset. */
    private static final int MIN_TENSOR_INFO = 8 + 4 + 8 + 4 + 8;
    /** Bytes a key-value pair takes at least: key length, value type, a one-byte value. */
    private static final int MIN_KV = 8 + 4 + 1;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** What the header says. */
    record Header(GgufMetadata metadata, Map<String, GgufTensor> tensors, int alignment, long dataStart) {
    }

    private final Path file;
    private final MemorySegment all;
    private final long size;
    private long pos;

    private GgufParser(Path file, MemorySegment all) {
        this.file = file;
        this.all = all;
        this.size = all.byteSize();
    }

    /** Parses the header of {@code all} (the whole file). */
    static Header parse(Path file, MemorySegment all) {
        return new GgufParser(file, all).header();
    }

    private Header header() {
        if (size < 4 || all.get(INT, 0) != MAGIC) {
            throw fail("not a GGUF file (the first 4 bytes are not \"GGUF\")");
        }
        pos = 4;
        long version = u32("version");
        if (version != VERSION) {
            throw fail("GGUF version " + version + " is not supported (Tailor reads version " + VERSION + ")");
        }
        long tensorCount = u64("tensor count");
        long kvCount = u64("metadata count");
        checkCount(kvCount, MIN_KV, "metadata count");
        Map<String, Object> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = string("metadata key " + i);
            Object value = value(u32("type of metadata " + key), key, 0);
            if (kv.put(key, value) != null) {
                throw fail("metadata key " + key + " appears twice");
            }
        }
        GgufMetadata metadata = new GgufMetadata(file, kv);
        int alignment = alignment(metadata);
        checkCount(tensorCount, MIN_TENSOR_INFO, "tensor count");
        List<TensorEntry> entries = new java.util.ArrayList<>();
        Map<String, Boolean> seen = new HashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            TensorEntry e = tensorInfo(i);
            if (seen.put(e.name, Boolean.TRUE) != null) {
                throw fail("tensor " + e.name + " appears twice");
            }
            entries.add(e);
        }
        long dataStart = align(pos, alignment);
        long dataSize = Math.max(0, size - dataStart);
        Map<String, GgufTensor> tensors = new LinkedHashMap<>();
        for (TensorEntry e : entries) {
            tensors.put(e.name, e.checked(dataSize, alignment));
        }
        return new Header(metadata, tensors, alignment, dataStart);
    }

    private int alignment(GgufMetadata metadata) {
        if (!metadata.has("general.alignment")) {
            return DEFAULT_ALIGNMENT;
        }
        long a = metadata.integer("general.alignment");
        if (a <= 0 || a > (1 << 30) || (a & (a - 1)) != 0) {
            throw fail("general.alignment " + a + " is not a power of two");
        }
        return (int) a;
    }

    private static long align(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    /** A tensor info as read, checked against the data section once its start is known. */
    private final class TensorEntry {
        final String name;
        final long[] dims;
        final long typeId;
        final long offset;

        TensorEntry(String name, long[] dims, long typeId, long offset) {
            this.name = name;
            this.dims = dims;
            this.typeId = typeId;
            this.offset = offset;
        }

        GgufTensor checked(long dataSize, int alignment) {
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw fail("tensor " + name + " has type " + GgmlType.nameOf(typeId) + ", which Tailor does not read"
                        + " (it reads " + java.util.Arrays.toString(GgmlType.values()) + ")");
            }
            if (dims[0] % type.blockValues() != 0) {
                throw fail("tensor " + name + " of type " + type + " has rows of " + dims[0] + " values, not a "
                        + "multiple of its block of " + type.blockValues());
            }
            long elements = 1;
            for (long d : dims) {
                elements = multiply(elements, d, name);
            }
            long bytes = multiply(elements / type.blockValues(), type.blockBytes(), name);
            if (offset % alignment != 0) {
                throw fail("tensor " + name + " has data offset " + offset + ", not a multiple of the alignment "
                        + alignment);
            }
            if (Long.compareUnsigned(offset, dataSize) > 0 || bytes > dataSize - offset) {
                throw fail("tensor " + name + " (" + type + " " + java.util.Arrays.toString(dims) + ", " + bytes
                        + " bytes at data offset " + Long.toUnsignedString(offset) + ") runs past the end of the file"
                        + " (its data section holds " + dataSize + " bytes)");
            }
            return new GgufTensor(name, dims, type, offset, bytes);
        }
    }

    private long multiply(long a, long b, String tensor) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw fail("tensor " + tensor + " is too large (its size overflows 64 bits)");
        }
    }

    private TensorEntry tensorInfo(long index) {
        String name = string("name of tensor " + index);
        long nDims = u32("dimension count of tensor " + name);
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw fail("tensor " + name + " has " + nDims + " dimensions (must be 1 to " + MAX_DIMS + ")");
        }
        long[] dims = new long[(int) nDims];
        for (int d = 0; d < nDims; d++) {
            dims[d] = u64("dimension " + d + " of tensor " + name);
            if (dims[d] < 1) {
                throw fail("tensor " + name + " has dimension " + d + " of " + Long.toUnsignedString(dims[d])
                        + " (must be at least 1)");
            }
        }
        long type = u32("type of tensor " + name);
        long offset = u64("data offset of tensor " + name);
        return new TensorEntry(name, dims, type, offset);
    }

    private void checkCount(long count, long minBytes, String what) {
        long left = size - pos;
        if (count < 0 || count > left / minBytes) {
            throw fail(what + " " + Long.toUnsignedString(count) + " cannot fit the " + left
                    + " bytes left in the file");
        }
    }

    private Object value(long type, String key, int depth) {
        return switch ((int) Math.min(type, Integer.MAX_VALUE)) {
            case 0 -> (long) u8(key);
            case 1 -> (long) (byte) u8(key);
            case 2 -> (long) (Short.toUnsignedInt(all.get(SHORT, take(2, key))));
            case 3 -> (long) all.get(SHORT, take(2, key));
            case 4 -> u32(key);
            case 5 -> (long) all.get(INT, take(4, key));
            case 6 -> all.get(FLOAT, take(4, key));
            case 7 -> bool(key);
            case 8 -> string(key);
            case 9 -> array(key, depth);
            case 10, 11 -> all.get(LONG, take(8, key));
            case 12 -> all.get(DOUBLE, take(8, key));
            default -> throw fail("metadata " + key + " has unknown value type " + type);
        };
    }

    private Object array(String key, int depth) {
        if (depth >= MAX_NESTING) {
            throw fail("metadata " + key + " nests arrays deeper than " + MAX_NESTING);
        }
        long type = u32("element type of metadata " + key);
        long count = u64("length of metadata " + key);
        int elementBytes = switch ((int) Math.min(type, Integer.MAX_VALUE)) {
            case 0, 1, 7 -> 1;
            case 2, 3 -> 2;
            case 4, 5, 6 -> 4;
            case 8, 10, 11, 12 -> 8;
            case 9 -> 12;
            default -> throw fail("metadata " + key + " is an array of unknown value type " + type);
        };
        checkCount(count, elementBytes, "length of metadata " + key + ",");
        int n = (int) count;
        return switch ((int) type) {
            case 6 -> {
                float[] a = new float[n];
                MemorySegment.copy(all, FLOAT, pos, a, 0, n);
                pos += 4L * n;
                yield a;
            }
            case 12 -> {
                double[] a = new double[n];
                MemorySegment.copy(all, DOUBLE, pos, a, 0, n);
                pos += 8L * n;
                yield a;
            }
            case 7 -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = bool(key);
                }
                yield a;
            }
            case 8 -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = string(key + "[" + i + "]");
                }
                yield a;
            }
            case 9 -> {
                Object[] a = new Object[n];
                for (int i = 0; i < n; i++) {
                    a[i] = value(9, key + "[" + i + "]", depth + 1);
                }
                yield a;
            }
            default -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Long) value(type, key, depth);
                }
                yield a;
            }
        };
    }

    private boolean bool(String key) {
        int b = u8(key);
        if (b > 1) {
            throw fail("metadata " + key + " holds boolean byte " + b + " (must be 0 or 1)");
        }
        return b == 1;
    }

    private String string(String what) {
        long len = u64("length of " + what);
        if (len < 0 || len > size - pos || len > Integer.MAX_VALUE - 16) {
            throw fail("the " + what + " claims " + Long.toUnsignedString(len) + " bytes, but only "
                    + (size - pos) + " are left in the file");
        }
        byte[] bytes = all.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
        pos += len;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw fail("the " + what + " is not valid UTF-8");
        }
    }

    private int u8(String what) {
        return Byte.toUnsignedInt(all.get(ValueLayout.JAVA_BYTE, take(1, what)));
    }

    private long u32(String what) {
        return Integer.toUnsignedLong(all.get(INT, take(4, what)));
    }

    private long u64(String what) {
        return all.get(LONG, take(8, what));
    }

    /** The position of the next {@code bytes} bytes, which are then passed; checked against the file's end. */
    private long take(int bytes, String what) {
        need(bytes, what);
        long at = pos;
        pos += bytes;
        return at;
    }

    private void need(int bytes, String what) {
        if (size - pos < bytes) {
            throw fail("the file ends at byte " + size + " inside the header (reading the " + what + ")");
        }
    }

    private TensorFormatException fail(String message) {
        return new TensorFormatException(file + ": " + message);
    }
}
