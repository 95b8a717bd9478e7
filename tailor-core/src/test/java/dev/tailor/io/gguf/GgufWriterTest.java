package dev.tailor.io.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Files {@link GgufWriter} writes, read back by {@link GgufFile}; the type recipe of {@link GgufTensorLayout}. */
class GgufWriterTest {
    @TempDir
    Path tmp;

    @Test
    void everyValueTypeAndTheAlignmentReadBack() throws Exception {
        Path file = tmp.resolve("all.gguf");
        new GgufWriter().putUint32("general.alignment", 64).putUint32("u32", 4_000_000_000L).putInt32("i32", -7)
                .putUint64("u64", 1L << 40).putFloat32("f32", 1.5f).putFloat64("f64", -2.25).putBool("yes", true)
                .putString("s", "héllo").putStrings("ss", List.of("a", "", "▁b")).putFloats("fs", new float[] {1, -2})
                .putInts("is", new int[] {3, -4}).putString("s", "moved to the end")
                .addTensor("v", GgmlType.F32, new long[] {3}, d -> d.copyFrom(
                        java.lang.foreign.MemorySegment.ofArray(new float[] {1, 2, 3})))
                .addTensor("m", GgmlType.F16, new long[] {2, 2}, d -> {
                    for (int i = 0; i < 4; i++) {
                        d.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(1f));
                    }
                })
                .write(file);
        try (GgufFile f = GgufFile.open(file)) {
            GgufMetadata m = f.metadata();
            assertEquals(List.of("general.alignment", "u32", "i32", "u64", "f32", "f64", "yes", "ss", "fs", "is", "s"),
                    List.copyOf(m.keys()));
            assertEquals(64, f.alignment());
            assertEquals(4_000_000_000L, m.integer("u32"));
            assertEquals(-7, m.integer("i32"));
            assertEquals(1L << 40, m.integer("u64"));
            assertEquals(1.5, m.real("f32", 0));
            assertEquals(-2.25, m.real("f64", 0));
            assertEquals(true, m.bool("yes", false));
            assertEquals("moved to the end", m.string("s"));
            assertArrayEquals(new String[] {"a", "", "▁b"}, m.strings("ss"));
            assertArrayEquals(new float[] {1, -2}, m.floats("fs"));
            assertArrayEquals(new long[] {3, -4}, m.integers("is"));
            assertArrayEquals(new float[] {1, 2, 3}, f.data(f.tensor("v")).toArray(ValueLayout.JAVA_FLOAT));
            assertEquals(64, f.tensor("m").offset(), "the second tensor starts at the next 64-byte boundary");
            assertEquals(1.0f, Float.float16ToFloat(f.data(f.tensor("m")).get(ValueLayout.JAVA_SHORT, 0)));
        }
        assertEquals(0, Files.size(file) % 64);
    }

    @Test
    void tensorsThatDoNotFitTheirTypeAreRefused() {
        GgufWriter w = new GgufWriter();
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", GgmlType.Q8_0, new long[] {48, 2}, d -> { }));
        w.addTensor("x", GgmlType.F32, new long[] {48}, d -> { });
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", GgmlType.F32, new long[] {1}, d -> { }));
        assertThrows(IllegalArgumentException.class, () -> w.putUint32("k", -1));
    }

    /** llama-quantize's default choices for Q8_0 and Q4_0, and the converter's for F16. */
    @Test
    void typeRecipe() {
        long[] square = {64, 64};
        long[] odd = {176, 64};
        assertEquals(GgmlType.F32, GgufTensorLayout.tensorType("blk.0.attn_norm.weight", new long[] {64},
                GgmlType.Q4_0, false));
        assertEquals(GgmlType.F16, GgufTensorLayout.tensorType("blk.0.ffn_down.weight", odd, GgmlType.F16, false));
        assertEquals(GgmlType.Q4_0, GgufTensorLayout.tensorType("blk.0.attn_q.weight", square, GgmlType.Q4_0, false));
        assertEquals(GgmlType.F16, GgufTensorLayout.tensorType("blk.0.ffn_down.weight", odd, GgmlType.Q4_0, false));
        assertEquals(GgmlType.Q8_0, GgufTensorLayout.tensorType("output.weight", square, GgmlType.Q4_0, false));
        assertEquals(GgmlType.Q4_0, GgufTensorLayout.tensorType("token_embd.weight", square, GgmlType.Q4_0, false));
        assertEquals(GgmlType.Q8_0, GgufTensorLayout.tensorType("token_embd.weight", square, GgmlType.Q4_0, true));
        assertEquals(GgmlType.F16, GgufTensorLayout.tensorType("token_embd.weight", odd, GgmlType.Q8_0, true));
        assertEquals(GgmlType.F32, GgufTensorLayout.tensorType("blk.0.attn_q.weight", square, GgmlType.F32, false));
        assertEquals("blk.12.ffn_gate.weight", GgufTensorLayout.ggufName("model.layers.12.mlp.gate_proj.weight"));
        assertThrows(IllegalArgumentException.class, () -> GgufTensorLayout.ggufName("model.layers.0.mlp.fc1.weight"));
    }
}
