package dev.tailor.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsWriterTest {
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    @Test
    void roundTripsEveryTypeWithConversion() {
        float[] values = {0f, 1f, -2.5f, 3.14159265f, 1e-3f, 65504f, -1e-8f};
        short[] bits = {Numerics.floatToBf16(7f), Numerics.floatToBf16(-0.5f)};
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .add("f32", DType.F32, new long[]{7}, values)
                .add("f16", DType.F16, new long[]{7}, values)
                .add("bf16", DType.BF16, new long[]{1, 7}, values)
                .add("bits", DType.BF16, new long[]{2}, bits)
                .add("ids", new long[]{3}, new long[]{-1, 0, 1L << 40})
                .add("mask", new long[]{2, 1}, new int[]{7, -7})
                .add("scalar", DType.F32, new long[]{}, new float[]{42f})
                .add("empty", DType.F16, new long[]{0, 4}, new float[0])
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals("pt", f.metadata().get("format"));
            assertEquals(8, f.names().size());
            for (int i = 0; i < values.length; i++) {
                assertEquals(values[i], Numerics.load(f.data("f32"), DType.F32, i));
                assertEquals(Numerics.f16ToFloat(Numerics.floatToF16(values[i])), Numerics.load(f.data("f16"), DType.F16, i));
                assertEquals(Numerics.bf16ToFloat(Numerics.floatToBf16(values[i])),
                        Numerics.load(f.data("bf16"), DType.BF16, i));
            }
            assertEquals(3.140625f, Numerics.load(f.data("bf16"), DType.BF16, 3));
            assertEquals(65504f, Numerics.load(f.data("f16"), DType.F16, 5));
            assertEquals(-0.5f, Numerics.load(f.data("bits"), DType.BF16, 1));
            assertArrayEquals(new long[]{-1, 0, 1L << 40}, f.data("ids").toArray(I64));
            assertArrayEquals(new int[]{7, -7}, f.data("mask").toArray(I32));
            assertArrayEquals(new long[]{2, 1}, f.info("mask").shape());
            assertEquals(42f, Numerics.load(f.data("scalar"), DType.F32, 0));
            assertArrayEquals(new long[]{}, f.info("scalar").shape());
            assertEquals(0, f.data("empty").byteSize());
            assertEquals(DType.F16, f.info("empty").dtype());
        }
    }

    @Test
    void headerIsSpacePaddedAndTensorsAlignedToTheirElementSize() throws IOException {
        Path file = dir.resolve("a.safetensors");
        new SafetensorsWriter()
                .add("b.half", DType.F16, new long[]{3}, new float[]{1, 2, 3})
                .add("a.half", DType.BF16, new long[]{1}, new float[]{1})
                .add("z.long", new long[]{1}, new long[]{5})
                .add("c.float", DType.F32, new long[]{1}, new float[]{1})
                .write(file);
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8);
        String header = new String(bytes, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"z.long\""), header);
        JsonNode root = new ObjectMapper().readTree(header);
        List<String> order = new ArrayList<>();
        root.fieldNames().forEachRemaining(order::add);
        assertEquals(List.of("z.long", "c.float", "a.half", "b.half"), order);
        assertEquals("[0,8]", root.get("z.long").get("data_offsets").toString());
        assertEquals("[8,12]", root.get("c.float").get("data_offsets").toString());
        assertEquals("[12,14]", root.get("a.half").get("data_offsets").toString());
        assertEquals("[14,20]", root.get("b.half").get("data_offsets").toString());
        assertEquals(8 + n + 20, bytes.length);
    }

    @Test
    void copiesSegmentsLargerThanOneChunk() {
        int count = 300_000;
        float[] values = new float[count];
        Random rnd = new Random(3);
        for (int i = 0; i < count; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        Path first = dir.resolve("first.safetensors");
        Path second = dir.resolve("second.safetensors");
        new SafetensorsWriter().add("w", DType.BF16, new long[]{count}, values).write(first);
        try (SafetensorsFile f = SafetensorsFile.open(first)) {
            new SafetensorsWriter().add("w", DType.BF16, new long[]{600, 500}, f.data("w")).write(second);
        }
        try (SafetensorsFile f = SafetensorsFile.open(second)) {
            assertArrayEquals(new long[]{600, 500}, f.info("w").shape());
            for (int i = 0; i < count; i += 997) {
                assertEquals(Numerics.bf16ToFloat(Numerics.floatToBf16(values[i])),
                        Numerics.load(f.data("w"), DType.BF16, i));
            }
        }
    }

    @Test
    void rejectsShapeMismatchAndDuplicateNames() {
        SafetensorsWriter w = new SafetensorsWriter().add("x", DType.F32, new long[]{2}, new float[2]);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> w.add("y", DType.F32, new long[]{3}, new float[2]));
        assertEquals("tensor y: shape [3] has 3 elements but 2 were given", shape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.add("x", DType.F32, new long[]{2}, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> w.add("i", DType.I32, new long[]{2}, new float[2]));
    }

    @Test
    void failedWriteLeavesTargetUntouchedAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Files.writeString(file, "previous content");
        MemorySegment gone;
        try (Arena arena = Arena.ofConfined()) {
            gone = arena.allocate(8);
        }
        SafetensorsWriter w = new SafetensorsWriter().add("ok", DType.F32, new long[]{1}, new float[]{1})
                .add("gone", DType.F32, new long[]{2}, gone);
        assertThrows(IllegalStateException.class, () -> w.write(file));
        assertEquals("previous content", Files.readString(file));
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(file), listing.toList());
        }
        UncheckedIOException noDir = assertThrows(UncheckedIOException.class,
                () -> new SafetensorsWriter().write(dir.resolve("missing/x.safetensors")));
        assertTrue(noDir.getMessage().contains("missing/x.safetensors"), noDir.getMessage());
    }

    @Test
    void replacesAnExistingFile() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Files.writeString(file, "previous content");
        new SafetensorsWriter().add("x", DType.F32, new long[]{1}, new float[]{2f}).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(2f, Numerics.load(f.data("x"), DType.F32, 0));
        }
        try (var listing = Files.list(dir)) {
            assertEquals(1, listing.count());
        }
    }
}
