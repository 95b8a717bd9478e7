package dev.tailor.io.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Writes GGUF files for tests: metadata of every value type, tensor infos and data, as llama.cpp lays them out. */
public final class GgufBytes {
    private final List<byte[]> kvs = new ArrayList<>();
    private final List<byte[]> infos = new ArrayList<>();
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();
    private int version = 3;
    private int alignment = 32;

    /** Sets the version written in the header. */
    public GgufBytes version(int v) {
        version = v;
        return this;
    }

    /** Adds {@code general.alignment} (uint32) and aligns the data to it. */
    public GgufBytes alignment(int a) {
        alignment = a;
        return kv("general.alignment", 4, le(4).putInt(a));
    }

    /** A string value. */
    public GgufBytes string(String key, String value) {
        return kv(key, 8, ByteBuffer.wrap(str(value)));
    }

    /** A uint32 value. */
    public GgufBytes u32(String key, long value) {
        return kv(key, 4, le(4).putInt((int) value));
    }

    /** A float32 value. */
    public GgufBytes f32(String key, float value) {
        return kv(key, 6, le(4).putFloat(value));
    }

    /** A bool value. */
    public GgufBytes bool(String key, boolean value) {
        return kv(key, 7, ByteBuffer.wrap(new byte[] {(byte) (value ? 1 : 0)}));
    }

    /** An array of strings. */
    public GgufBytes strings(String key, List<String> values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(le(12).putInt(8).putLong(values.size()).array());
        values.forEach(v -> out.writeBytes(str(v)));
        return kv(key, 9, ByteBuffer.wrap(out.toByteArray()));
    }

    /** An array of int32. */
    public GgufBytes ints(String key, int[] values) {
        ByteBuffer b = le(12 + 4 * values.length).putInt(5).putLong(values.length);
        for (int v : values) {
            b.putInt(v);
        }
        return kv(key, 9, b);
    }

    /** An array of float32. */
    public GgufBytes floats(String key, float[] values) {
        ByteBuffer b = le(12 + 4 * values.length).putInt(6).putLong(values.length);
        for (float v : values) {
            b.putFloat(v);
        }
        return kv(key, 9, b);
    }

    /** A key with a raw value of type {@code type}. */
    public GgufBytes kv(String key, int type, ByteBuffer value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(str(key));
        out.writeBytes(le(4).putInt(type).array());
        out.writeBytes(value.array());
        kvs.add(out.toByteArray());
        return this;
    }

    /** A float32 tensor of dims (ggml order) with the given values, its data aligned. */
    public GgufBytes tensor(String name, long[] dims, float[] values) {
        ByteBuffer b = le(4 * values.length);
        for (float v : values) {
            b.putFloat(v);
        }
        return tensor(name, dims, 0, b.array());
    }

    /** A tensor of any type id, with raw data, its data aligned. */
    public GgufBytes tensor(String name, long[] dims, int type, byte[] bytes) {
        while (data.size() % alignment != 0) {
            data.write(0);
        }
        return tensorInfo(name, dims, type, data.size(), bytes);
    }

    /** A tensor info at a given offset, with {@code bytes} appended to the data. */
    public GgufBytes tensorInfo(String name, long[] dims, int type, long offset, byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(str(name));
        ByteBuffer b = le(4 + 8 * dims.length + 4 + 8).putInt(dims.length);
        for (long d : dims) {
            b.putLong(d);
        }
        out.writeBytes(b.putInt(type).putLong(offset).array());
        infos.add(out.toByteArray());
        data.writeBytes(bytes);
        return this;
    }

    /** The file's bytes. */
    public byte[] build() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(le(20).putInt(version).putLong(infos.size()).putLong(kvs.size()).array());
        kvs.forEach(out::writeBytes);
        infos.forEach(out::writeBytes);
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        out.writeBytes(data.toByteArray());
        return out.toByteArray();
    }

    private static byte[] str(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        return le(8 + bytes.length).putLong(bytes.length).put(bytes).array();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
