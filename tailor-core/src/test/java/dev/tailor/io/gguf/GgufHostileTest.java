package dev.tailor.io.gguf;

import dev.tailor.io.TensorFormatException;
import dev.tailor.model.LlamaModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Corrupt, truncated and hostile GGUF files fail with a message naming the file and what is wrong. */
class GgufHostileTest {
    @TempDir
    Path tmp;

    @Test
    void wellFormedFileReadsBack() throws IOException {
        Path f = write(new GgufBytes().alignment(64).string("general.name", "t").f32("x.eps", 1e-5f)
                .tensor("a", new long[] {4, 2}, new float[] {1, 2, 3, 4, 5, 6, 7, 8}).build());
        try (GgufFile file = GgufFile.open(f)) {
            assertEquals(64, file.alignment());
            assertEquals("t", file.metadata().string("general.name"));
            assertEquals(1e-5f, (float) file.metadata().real("x.eps", 0));
            GgufTensor a = file.tensor("a");
            assertArrayEquals(new long[] {2, 4}, a.shape());
            assertEquals(8f, file.data(a).getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 7));
        }
    }

    @Test
    void badMagic() throws IOException {
        Path f = tmp.resolve("m.gguf");
        Files.writeString(f, "GGML and then some");
        expect(f, "not a GGUF file");
    }

    @Test
    void version2() throws IOException {
        expect(write(new GgufBytes().version(2).build()), "GGUF version 2 is not supported");
    }

    @Test
    void truncatedHeader() throws IOException {
        byte[] whole = new GgufBytes().string("general.name", "a long enough name").build();
        expect(write(Arrays.copyOf(whole, 66)), "claims 18 bytes, but only 10 are left");
        expect(write(Arrays.copyOf(whole, 12)), "file ends at byte 12 inside the header");
    }

    @Test
    void tensorDataPastTheEnd() throws IOException {
        byte[] whole = new GgufBytes().tensor("w", new long[] {8, 8}, new float[64]).build();
        expect(write(Arrays.copyOf(whole, whole.length - 4)), "tensor w (F32 [8, 8], 256 bytes at data offset 0) "
                + "runs past the end of the file");
        expect(write(new GgufBytes().tensorInfo("w", new long[] {4}, 0, Long.MAX_VALUE / 32 * 32, new byte[16]).build()),
                "runs past the end");
    }

    @Test
    void absurdCountsAndLengths() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).put("GGUF".getBytes())
                .putInt(3).putLong(0).putLong(Long.MAX_VALUE);
        expect(write(header.array()), "metadata count " + Long.MAX_VALUE + " cannot fit");
        ByteBuffer tensors = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).put("GGUF".getBytes())
                .putInt(3).putLong(-1).putLong(0);
        expect(write(tensors.array()), "tensor count 18446744073709551615 cannot fit");
        ByteBuffer array = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(6).putLong(1L << 40);
        expect(write(new GgufBytes().kv("big", 9, array).build()), "length of metadata big, 1099511627776 cannot fit");
        expect(write(new GgufBytes().tensorInfo("w", new long[] {1L << 40, 1L << 40, 1L << 40}, 0, 0, new byte[0])
                .build()), "too large");
    }

    @Test
    void malformedInfos() throws IOException {
        expect(write(new GgufBytes().tensor("q", new long[] {16}, 2, new byte[18]).build()),
                "rows of 16 values, not a multiple of its block of 32");
        expect(write(new GgufBytes().tensor("q", new long[] {32}, 6, new byte[22]).build()),
                "type Q5_0, which Tailor does not read");
        expect(write(new GgufBytes().tensorInfo("w", new long[] {4}, 0, 4, new byte[32]).build()),
                "not a multiple of the alignment 32");
        expect(write(new GgufBytes().tensor("w", new long[] {1}, new float[1]).tensor("w", new long[] {1},
                new float[1]).build()), "tensor w appears twice");
        expect(write(new GgufBytes().string("k", "a").string("k", "b").build()), "metadata key k appears twice");
        expect(write(new GgufBytes().alignment(24).build()), "general.alignment 24 is not a power of two");
        expect(write(new GgufBytes().kv("k", 13, ByteBuffer.allocate(1)).build()), "unknown value type 13");
    }

    @Test
    void wrongMetadataIsNamedWhenAModelLoads() throws IOException {
        Path noArch = write(new GgufBytes().string("general.architecture", "gemma").build());
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> LlamaModel.load(noArch));
        assertTrue(e.getMessage().contains("architecture \"gemma\" is not supported"), e.getMessage());
        Path typed = write(new GgufBytes().string("general.architecture", "llama")
                .string("llama.embedding_length", "64").build());
        TensorFormatException t = assertThrows(TensorFormatException.class, () -> LlamaModel.load(typed));
        assertTrue(t.getMessage().contains("metadata llama.embedding_length must be an integer, got a string"),
                t.getMessage());
    }

    @Test
    void storedRowUndoesTheConvertersPermutation() {
        long[] expected = {0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15};
        for (int r = 0; r < 16; r++) {
            assertEquals(expected[r], GgufTensorLayout.storedRow(r, 8), "row " + r);
        }
    }

    private Path write(byte[] bytes) throws IOException {
        return Files.write(Files.createTempFile(tmp, "f", ".gguf"), bytes);
    }

    private static void expect(Path file, String message) {
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> GgufFile.open(file).close());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
