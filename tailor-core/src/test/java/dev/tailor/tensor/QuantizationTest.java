package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Quantization} against ggml's reference quantizers and dequantizers (fixtures in
 * {@code resources/dev/tailor/tensor/ggml}, see its README), and the block types in {@link DType} and
 * {@link WeightMatrix}.
 */
class QuantizationTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q8_0, quantize.q8_0", "Q4_0, quantize.q4_0"})
    void quantizesAsGgmlReference(DType type, String fixture) throws IOException {
        float[] x = floats(resource("quantize.f32"));
        byte[] expected = resource(fixture);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(type.bytesFor(x.length));
            Quantization.quantizeRow(type, x, 0, x.length, out, 0);
            byte[] got = out.toArray(ValueLayout.JAVA_BYTE);
            for (int b = 0; b < x.length / 32; b++) {
                int from = b * type.blockBytes();
                int to = from + type.blockBytes();
                assertArrayEquals(java.util.Arrays.copyOfRange(expected, from, to),
                        java.util.Arrays.copyOfRange(got, from, to), type + " block " + b);
            }
            float[] values = new float[x.length];
            Quantization.dequantizeRow(type, out, 0, x.length, values, 0);
            assertBitsEqual(floats(resource(fixture + ".f32")), values, type.name());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q4_K, q4_k", "Q5_K, q5_k", "Q6_K, q6_k"})
    void dequantizesKQuantsAsGgml(DType type, String fixture) throws IOException {
        byte[] blocks = resource(fixture);
        float[] expected = floats(resource(fixture + ".f32"));
        assertEquals(8 * type.blockBytes(), blocks.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(blocks.length);
            MemorySegment.copy(blocks, 0, seg, ValueLayout.JAVA_BYTE, 0, blocks.length);
            float[] got = new float[expected.length];
            Quantization.dequantizeRow(type, seg, 0, got.length, got, 0);
            assertBitsEqual(expected, got, type.name());
            // as a [2, 1024] matrix: rows, single elements, a row view, and the F32 copy
            WeightMatrix w = new WeightMatrix(seg, type, 2, 1024);
            float[] row = new float[1024];
            w.rows(1, 2).copyRow(0, row, 0);
            assertBitsEqual(java.util.Arrays.copyOfRange(expected, 1024, 2048), row, "row 1");
            for (int c = 0; c < 1024; c += 37) {
                assertEquals(Float.floatToRawIntBits(expected[1024 + c]), Float.floatToRawIntBits(w.get(1, c)));
            }
            WeightMatrix f = w.dequantize(arena);
            assertEquals(DType.F32, f.dtype());
            assertEquals(Float.floatToRawIntBits(expected[2047]), Float.floatToRawIntBits(f.get(1, 1023)));
            // multiplied in place, with the bits of the product over the F32 copy
            float[] x = new float[1024];
            for (int c = 0; c < x.length; c++) {
                x[c] = (float) Math.sin(c);
            }
            float[] inPlace = new float[2];
            float[] overCopy = new float[2];
            MatMul.matmulTransposed(x, 1, w, inPlace);
            MatMul.matmulTransposed(x, 1, f, overCopy);
            assertBitsEqual(overCopy, inPlace, type + " product");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q8_0", "Q4_0"})
    void quantizedMatrixRoundTrips(DType type) {
        SplittableRandom rnd = new SplittableRandom(3);
        int rows = 5;
        int cols = 96;
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix q = WeightMatrix.quantize(WeightMatrix.of(v, rows, cols), type, arena);
            assertEquals(rows * type.bytesFor(cols), q.data().byteSize());
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                q.copyRow(r, row, 0);
                for (int b = 0; b < cols / 32; b++) {
                    float amax = 0f;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(v[r * cols + b * 32 + j]));
                    }
                    // half a quantization step (Q8_0: amax/127), plus the F16 scale's rounding; Q4_0 maps the
                    // extreme to -8 and clips the other side at +7, so values there may be a whole step (amax/8) off
                    float tolerance = type == DType.Q8_0 ? 0.5f * amax / 127f : amax / 8f;
                    for (int j = 0; j < 32; j++) {
                        int c = b * 32 + j;
                        assertEquals(v[r * cols + c], row[c], tolerance * 1.01f + amax * 1e-3f,
                                type + " (" + r + ", " + c + ")");
                        assertEquals(Float.floatToRawIntBits(row[c]), Float.floatToRawIntBits(q.get(r, c)));
                    }
                }
            }
        }
    }

    @Test
    void packedKQuantScalesAndMinsEqualGgmlsOneByOne() {
        SplittableRandom rnd = new SplittableRandom(12);
        MemorySegment bytes = MemorySegment.ofArray(new byte[12]);
        for (int trial = 0; trial < 2000; trial++) {
            for (int i = 0; i < 12; i++) {
                bytes.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
            }
            long scales = Quantization.scalesMinsK4(bytes, 0, false);
            long mins = Quantization.scalesMinsK4(bytes, 0, true);
            for (int j = 0; j < 8; j++) {
                assertEquals(Quantization.scaleMinK4(bytes, 0, j, false), Quantization.subBlockByte(scales, j),
                        "scale of sub-block " + j);
                assertEquals(Quantization.scaleMinK4(bytes, 0, j, true), Quantization.subBlockByte(mins, j),
                        "min of sub-block " + j);
            }
        }
    }

    @Test
    void blockTypesHaveBlockSizesNotElementSizes() {
        assertEquals(32, DType.Q8_0.blockSize());
        assertEquals(34, DType.Q8_0.blockBytes());
        assertEquals(18, DType.Q4_0.blockBytes());
        assertEquals(144, DType.Q4_K.blockBytes());
        assertEquals(176, DType.Q5_K.blockBytes());
        assertEquals(210, DType.Q6_K.blockBytes());
        assertEquals(576 / 32 * 34, DType.Q8_0.bytesFor(576));
        assertEquals(4 * 10, DType.F32.bytesFor(10));
        assertEquals(2, DType.BF16.byteSize());
        assertThrows(IllegalStateException.class, DType.Q8_0::byteSize);
        assertThrows(IllegalArgumentException.class, () -> DType.Q4_0.bytesFor(33));
        assertTrue(DType.Q4_K.isQuantized());
        assertFalse(DType.F16.isQuantized());
        assertFalse(DType.Q8_0.isWeightType());
        assertTrue(DType.Q8_0.hasKernels());
        assertTrue(DType.Q6_K.hasKernels());
        assertFalse(DType.I32.hasKernels());
        assertEquals(DType.Q8_0, DType.fromGgml(8));
        assertEquals(DType.Q4_0, DType.fromGgml(2));
        assertEquals(DType.Q6_K, DType.fromGgml(14));
        assertEquals(DType.BF16, DType.fromGgml(30));
        IllegalArgumentException q41 = assertThrows(IllegalArgumentException.class, () -> DType.fromGgml(3));
        assertTrue(q41.getMessage().contains("3"), q41.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DType.fromSafetensors("Q8_0"));
        assertTrue(e.getMessage().contains("Q8_0"), e.getMessage());
    }

    @Test
    void quantizedMatrixNeedsWholeBlocksInNativeMemory() {
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException cols = assertThrows(IllegalArgumentException.class,
                    () -> new WeightMatrix(arena.allocate(34), DType.Q8_0, 1, 33));
            assertTrue(cols.getMessage().contains("33 columns"), cols.getMessage());
            IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
                    () -> new WeightMatrix(MemorySegment.ofArray(new byte[34]), DType.Q8_0, 1, 32));
            assertTrue(heap.getMessage().contains("native"), heap.getMessage());
            IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                    () -> new WeightMatrix(arena.allocate(35), DType.Q8_0, 1, 32));
            assertTrue(size.getMessage().contains("needs 34 bytes"), size.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> WeightMatrix.quantize(WeightMatrix.of(new float[32], 1, 32), DType.Q4_K, arena));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q8_0", "Q4_0"})
    void blockScalesAreEachBlocksF16ScaleWidenedOnce(DType type) {
        SplittableRandom rnd = new SplittableRandom(11);
        int rows = 7;
        int cols = 160;
        short[] bits = {0x0000, (short) 0x8000, 0x0001, 0x03FF, 0x3C00, (short) 0xBC00, 0x7BFF, 0x2E66};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(rows * type.bytesFor(cols));
            for (long i = 0; i < data.byteSize(); i++) {
                data.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
            }
            int blocks = rows * cols / 32;
            for (int b = 0; b < blocks; b++) {
                short h = b < bits.length ? bits[b] : (short) rnd.nextInt(0x7C00);
                data.set(Numerics.I16_LE, (long) b * type.blockBytes(), h);
            }
            WeightMatrix w = new WeightMatrix(data, type, rows, cols);
            float[] scales = w.blockScales();
            assertEquals(blocks, scales.length);
            for (int b = 0; b < blocks; b++) {
                float expected = Float.float16ToFloat(data.get(Numerics.I16_LE, (long) b * type.blockBytes()));
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(scales[b]), "block " + b);
            }
            assertTrue(scales == w.blockScales(), "made once and kept");
            float[] tail = w.rows(3, 7).blockScales();
            assertArrayEquals(java.util.Arrays.copyOfRange(scales, 3 * cols / 32, blocks), tail);
            WeightMatrix same = new WeightMatrix(data, type, rows, cols);
            assertEquals(w, same);
            assertEquals(w.hashCode(), same.hashCode());
            assertFalse(w.equals(w.rows(0, 6)));
        }
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> Quantization.blockScales(DType.Q4_K, MemorySegment.NULL, 0, 256));
        assertTrue(other.getMessage().contains("Q4_K"), other.getMessage());
    }

    @Test
    void roundsHalvesAwayFromZeroAsRoundf() {
        assertEquals(1f, Quantization.roundHalfAway(0.5f));
        assertEquals(-1f, Quantization.roundHalfAway(-0.5f));
        assertEquals(0f, Quantization.roundHalfAway(0.49999997f));
        assertEquals(3f, Quantization.roundHalfAway(2.5f));
        assertEquals(-127f, Quantization.roundHalfAway(-127.00001f));
    }

    static void assertBitsEqual(float[] expected, float[] got, String what) {
        assertEquals(expected.length, got.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(got[i])) {
                assertEquals(expected[i], got[i], what + " element " + i);
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]),
                        what + " element " + i + " bits");
            }
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = QuantizationTest.class.getResourceAsStream("ggml/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource ggml/" + name);
            }
            return in.readAllBytes();
        }
    }

    private static float[] floats(byte[] bytes) {
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}
