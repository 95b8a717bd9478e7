package dev.tailor.io;

import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** A file whose 8-byte length field says {@code claimedLength}, followed by the header text and data bytes. */
    static byte[] raw(long claimedLength, String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(claimedLength).put(h).put(data).array();
    }

    static byte[] raw(String header, int dataBytes) {
        return raw(header.getBytes(StandardCharsets.UTF_8).length, header, new byte[dataBytes]);
    }

    record Corrupt(String label, byte[] bytes, List<String> expected) {
        @Override
        public String toString() {
            return label;
        }
    }

    static List<Corrupt> corruptFiles() {
        String ok = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        return List.of(
                new Corrupt("too short", new byte[5], List.of("too short", "5 bytes")),
                new Corrupt("header length beyond file", raw(1000, ok, new byte[8]), List.of("header length 1000")),
                new Corrupt("header length 2^60", raw(1L << 60, ok, new byte[8]),
                        List.of("header length " + (1L << 60))),
                new Corrupt("header length negative", raw(-1, ok, new byte[8]),
                        List.of("header length 18446744073709551615")),
                new Corrupt("header length zero", raw(0, ok, new byte[8]), List.of("header length 0")),
                new Corrupt("not JSON", raw("{\"t\": ", 0), List.of("not valid JSON")),
                new Corrupt("JSON array", raw("[1, 2]  ", 0), List.of("not a JSON object")),
                new Corrupt("trailing garbage", raw("{} xx", 0), List.of("not valid JSON")),
                new Corrupt("duplicate tensor", raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), List.of("t")),
                new Corrupt("overlap", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
                        List.of("tensors a [0, 8) and b [4, 12) overlap")),
                new Corrupt("beyond data", raw(ok, 6), List.of("tensor t", "outside the data section of 6 bytes")),
                new Corrupt("end before begin", raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}",
                        8), List.of("tensor t", "[8, 4]")),
                new Corrupt("shape mismatch", raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
                        8), List.of("tensor t", "needs 12 bytes", "hold 8")),
                new Corrupt("unknown dtype", raw("{\"t\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],"
                        + "\"data_offsets\":[0,8]}}", 8), List.of("tensor t", "unknown dtype \"F8_E4M3\"")),
                new Corrupt("negative dim", raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
                        8), List.of("tensor t", "dimension 0", "-2")),
                new Corrupt("fractional dim", raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[2.5],"
                        + "\"data_offsets\":[0,8]}}", 8), List.of("tensor t", "2.5")),
                new Corrupt("dim beyond 64 bits", raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[100000000000000000000],"
                        + "\"data_offsets\":[0,8]}}", 8), List.of("tensor t", "non-negative 64-bit")),
                new Corrupt("element count overflows", raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,"
                        + "4294967296],\"data_offsets\":[0,8]}}", 8), List.of("tensor t", "overflows")),
                new Corrupt("byte count overflows", raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],"
                        + "\"data_offsets\":[0,8]}}", 8), List.of("tensor t", "overflows")),
                new Corrupt("offset as string", raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],"
                        + "\"data_offsets\":[\"0\",8]}}", 8), List.of("tensor t", "data_offsets begin")),
                new Corrupt("entry not an object", raw("{\"t\":[1,2]}", 0), List.of("tensor t", "needs dtype")),
                new Corrupt("metadata not strings", raw("{\"__metadata__\":{\"format\":1}}", 0),
                        List.of("__metadata__", "format")));
    }

    @ParameterizedTest
    @MethodSource("corruptFiles")
    void rejectsCorruptFileNamingFileAndProblem(Corrupt c) throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, c.bytes());
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        for (String fragment : c.expected()) {
            assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' lacks '" + fragment + "'");
        }
    }

    @Test
    void readsDataAfterGapAtUnalignedAddress() throws IOException {
        // header length = 5 (mod 8): the data section starts at an odd address; t begins 3 bytes into it (a gap)
        String header = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[3,11]},"
                + "\"h\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[11,13]}}";
        header = header + " ".repeat((5 - header.length() % 8 + 8) % 8);
        assertEquals(5, header.length() % 8);
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        data.position(3);
        data.putFloat(1.5f).putFloat(-2.25f).putShort(Numerics.floatToBf16(3.0f));
        Path file = dir.resolve("gap.safetensors");
        Files.write(file, raw(header.length(), header, data.array()));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(new TensorInfo("t", DType.F32, new long[]{2}, 3, 11), f.info("t"));
            assertEquals(1.5f, Numerics.load(f.data("t"), DType.F32, 0));
            assertEquals(-2.25f, Numerics.load(f.data("t"), DType.F32, 1));
            assertEquals(3.0f, Numerics.load(f.data("h"), DType.BF16, 0));
            assertArrayEquals(new long[]{2}, f.info("t").shape());
        }
    }

    @Test
    void missingTensorNamesFileAndTensor() throws IOException {
        Path file = dir.resolve("one.safetensors");
        Files.write(file, raw("{\"__metadata__\":{\"format\":\"pt\"}}", 0));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals("pt", f.metadata().get("format"));
            TensorFormatException e = assertThrows(TensorFormatException.class, () -> f.info("nope"));
            assertEquals(file + ": missing tensor nope", e.getMessage());
        }
    }

    /**
     * The kernels' segment loads are compiled for the segment classes met in the process; a mapped segment beside the
     * native and heap ones made decoding twice as slow. Tensors are plain native views, and closing still ends them.
     */
    @Test
    void tensorsArePlainNativeViewsThatCloseWithTheFile() throws IOException {
        Path file = dir.resolve("view.safetensors");
        ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.5f).putFloat(-4f);
        String header = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        Files.write(file, raw(header.length(), header, data.array()));
        MemorySegment t;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            t = f.data("t");
            assertTrue(t.isNative());
            assertFalse(t.isMapped());
            assertEquals(-4f, Numerics.load(t, DType.F32, 1));
        }
        MemorySegment closed = t;
        assertThrows(IllegalStateException.class, () -> Numerics.load(closed, DType.F32, 0));
    }

    /**
     * A tensor is mapped in place; dropping a range of its mapped pages keeps its bytes, and a range outside the
     * tensor is refused.
     */
    @Test
    void droppedPagesReadBackAndARangeMustLieInTheTensor() throws IOException {
        Path file = dir.resolve("drop.safetensors");
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(0.5f).putFloat(-4f).putFloat(8f).putFloat(3f);
        String header = "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        Files.write(file, raw(header.length(), header, data.array()));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            f.dropMappedPages("t", 4, 12);
            f.dropMappedPages("t");
            assertEquals(8f, Numerics.load(f.data("t"), DType.F32, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> f.dropMappedPages("t", 8, 17));
            assertThrows(IndexOutOfBoundsException.class, () -> f.dropMappedPages("t", -1, 4));
            assertTrue(f.mappedInPlace("t"), "a safetensors tensor is the file's mapped bytes");
        }
    }
}
