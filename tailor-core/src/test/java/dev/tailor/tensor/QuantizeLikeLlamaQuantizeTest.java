package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tailor.Shared;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link WeightMatrix#quantize} against {@code llama-quantize}: the shared tiny Llama's F32 GGUF quantized here gives,
 * tensor for tensor, the bytes of the Q8_0 and Q4_0 GGUF files {@code llama-quantize} wrote from it. (The GGUF tensor
 * table is read by a few lines of this test, not by the engine's reader.)
 */
class QuantizeLikeLlamaQuantizeTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q8_0, tiny-llama-q8_0.gguf", "Q4_0, tiny-llama-q4_0.gguf"})
    void quantizedTensorsAreLlamaQuantizes(DType type, String file) throws IOException {
        Path dir = Shared.require("models/tiny-llama-gguf");
        Map<String, Tensor> source = tensors(dir.resolve("tiny-llama-f32.gguf"));
        Map<String, Tensor> quantized = tensors(dir.resolve(file));
        int checked = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (Map.Entry<String, Tensor> e : quantized.entrySet()) {
                Tensor q = e.getValue();
                if (q.type != type) {
                    continue;
                }
                Tensor f = source.get(e.getKey());
                assertEquals(DType.F32, f.type, e.getKey() + " in the source");
                float[] values = new float[(int) (f.bytes.remaining() / 4)];
                f.bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
                int cols = (int) f.dims[0];
                WeightMatrix w = WeightMatrix.quantize(WeightMatrix.of(values, values.length / cols, cols), type,
                        arena);
                byte[] expected = new byte[q.bytes.remaining()];
                q.bytes.duplicate().get(expected);
                byte[] got = w.data().toArray(ValueLayout.JAVA_BYTE);
                assertEquals(expected.length, got.length, e.getKey());
                for (int i = 0; i < got.length; i++) {
                    if (expected[i] != got[i]) {
                        assertEquals(expected[i], got[i], e.getKey() + " byte " + i + " (block "
                                + i / type.blockBytes() + ")");
                    }
                }
                checked++;
            }
        }
        assertTrue(checked >= 10, "only " + checked + " " + type + " tensors in " + file);
    }

    private record Tensor(long[] dims, DType type, ByteBuffer bytes) {
    }

    /** The tensors of a GGUF v3 file by name (those of types {@link DType} has). */
    private static Map<String, Tensor> tensors(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x46554747, b.getInt(), "GGUF magic");
        assertEquals(3, b.getInt(), "GGUF version");
        long tensorCount = b.getLong();
        long kvCount = b.getLong();
        long alignment = 32;
        for (long i = 0; i < kvCount; i++) {
            String key = string(b);
            int valueType = b.getInt();
            if (key.equals("general.alignment")) {
                alignment = b.getInt() & 0xFFFFFFFFL;
            } else {
                skip(b, valueType);
            }
        }
        Map<String, long[]> dims = new LinkedHashMap<>();
        Map<String, int[]> types = new LinkedHashMap<>();
        Map<String, Long> offsets = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = string(b);
            long[] d = new long[b.getInt()];
            for (int j = 0; j < d.length; j++) {
                d[j] = b.getLong();
            }
            dims.put(name, d);
            types.put(name, new int[] {b.getInt()});
            offsets.put(name, b.getLong());
        }
        long data = (b.position() + alignment - 1) / alignment * alignment;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : dims.keySet()) {
            long elements = 1;
            for (long d : dims.get(name)) {
                elements *= d;
            }
            int ggml = types.get(name)[0];
            DType type;
            try {
                type = DType.fromGgml(ggml);
            } catch (IllegalArgumentException e) {
                continue;
            }
            int start = (int) (data + offsets.get(name));
            int size = (int) type.bytesFor(elements);
            out.put(name, new Tensor(dims.get(name), type,
                    b.duplicate().position(start).limit(start + size).slice().order(ByteOrder.LITTLE_ENDIAN)));
        }
        return out;
    }

    private static String string(ByteBuffer b) {
        byte[] s = new byte[(int) b.getLong()];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static void skip(ByteBuffer b, int valueType) {
        switch (valueType) {
            case 0, 1, 7 -> b.position(b.position() + 1);
            case 2, 3 -> b.position(b.position() + 2);
            case 4, 5, 6 -> b.position(b.position() + 4);
            case 10, 11, 12 -> b.position(b.position() + 8);
            case 8 -> string(b);
            case 9 -> {
                int elementType = b.getInt();
                long count = b.getLong();
                for (long i = 0; i < count; i++) {
                    skip(b, elementType);
                }
            }
            default -> throw new IllegalArgumentException("GGUF value type " + valueType);
        }
    }
}
