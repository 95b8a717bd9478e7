package dev.tailor.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.gguf.GgmlType;
import dev.tailor.io.gguf.GgufFile;
import dev.tailor.io.gguf.GgufTensor;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.train.RandomInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GGUF files Tailor writes against the ones llama.cpp's converter and {@code llama-quantize} wrote. */
class GgufExportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /**
     * Every tensor's name, type, shape and bytes, every metadata key and value, in the reference's order, and so the
     * whole file, equal llama.cpp's for the tiny model; read back, the file gives the type's golden logits.
     */
    @ParameterizedTest
    @ValueSource(strings = {"f32", "f16", "q8_0", "q4_0"})
    void tinyLlamaMatchesLlamaCppsFile(String type) throws Exception {
        Path model = Shared.require("models/tiny-llama");
        Path reference = Shared.require("models/tiny-llama-gguf/tiny-llama-" + type + ".gguf");
        Path out = tmp.resolve("out.gguf");
        try (LlamaModel m = LlamaModel.load(model)) {
            GgufExport.write(out, m.config(), m.weights(), model, GgufExport.nameFromDirectory("tiny-llama"),
                    GgufExport.fileType(type));
        }
        try (GgufFile want = GgufFile.open(reference); GgufFile got = GgufFile.open(out)) {
            assertEquals(new ArrayList<>(want.metadata().keys()), new ArrayList<>(got.metadata().keys()));
            for (String key : want.metadata().keys()) {
                assertTrue(deepEquals(want.metadata().get(key), got.metadata().get(key)), key);
            }
            List<String> names = new ArrayList<>();
            want.tensors().forEach(t -> names.add(t.name()));
            List<String> gotNames = new ArrayList<>();
            got.tensors().forEach(t -> gotNames.add(t.name()));
            assertEquals(names, gotNames);
            for (GgufTensor w : want.tensors()) {
                GgufTensor g = got.tensor(w.name());
                assertEquals(w.type(), g.type(), w.name());
                assertArrayEquals(w.dims(), g.dims(), w.name());
                assertEquals(-1, want.data(w).mismatch(got.data(g)), w.name() + " bytes");
            }
        }
        assertEquals(-1, Files.mismatch(reference, out), "the whole file");
        checkGoldenForward(out, type);
    }

    /**
     * A model with tied embeddings and Llama 3's RoPE scaling: no {@code output.weight} (the embedding is Q8_0 in Q4_0,
     * as llama-quantize treats a tied head), the scaling as the {@code rope_freqs} tensor; read back, the F32 file is
     * the same model, computing the same logits bit for bit.
     */
    @Test
    void tiedEmbeddingsAndLlama3RopeScalingRoundTrip() throws Exception {
        Path tokenizer = Shared.require("models/tiny-llama");
        ModelConfig c = new ModelConfig("llama", 64, 96, 2, 4, 2, 16, 1e-5, 500000.0,
                new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), 32000, 128, true, false, false, 1, List.of(2));
        LlamaWeights w = RandomInit.weights(c, 11);
        Path f32 = tmp.resolve("tied-f32.gguf");
        Path q4 = tmp.resolve("tied-q4_0.gguf");
        GgufExport.write(f32, c, w, tokenizer, "Tied", GgufExport.fileType("F32"));
        GgufExport.write(q4, c, w, tokenizer, "Tied", GgufExport.fileType("q4_0"));
        try (GgufFile file = GgufFile.open(q4)) {
            assertFalse(file.contains("output.weight"));
            assertEquals(GgmlType.Q8_0, file.tensor("token_embd.weight").type());
            assertEquals(GgmlType.Q4_0, file.tensor("blk.1.ffn_down.weight").type());
            assertEquals(GgmlType.F32, file.tensor("rope_freqs.weight").type());
        }
        assertEquals(c, ModelConfig.load(f32));
        int[] ids = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203};
        try (LlamaModel original = new LlamaModel(c, w, null); LlamaModel read = LlamaModel.load(f32)) {
            assertSameModel(original, read, ids);
        }
    }

    /**
     * Qwen2 (q/k/v biases) and Qwen3 (per-head q/k norms, a head width of its own) are written under their own
     * architectures, rows in order; read back, the F32 file is the same model, computing the same logits bit for bit.
     */
    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "qwen3"})
    void qwenRoundTrips(String type) throws Exception {
        Path tokenizer = Shared.require("tokenizers/qwen3");
        boolean qwen3 = type.equals("qwen3");
        ModelConfig c = new ModelConfig(type, 32, 64, 2, 4, 2, qwen3 ? 16 : 8, 1e-6, 1000000.0, null, 151669, 128,
                true, !qwen3, qwen3, -1, List.of(151645));
        LlamaWeights w = RandomInit.weights(c, 5);
        Path f32 = tmp.resolve(type + ".gguf");
        GgufExport.write(f32, c, w, tokenizer, "Qwen", GgufExport.fileType("F32"));
        ModelConfig read = ModelConfig.load(f32);
        assertEquals(new ModelConfig(type, 32, 64, 2, 4, 2, qwen3 ? 16 : 8, 1e-6, 1000000.0, null, 151669, 128,
                true, !qwen3, qwen3, read.bosTokenId(), read.eosTokenIds()), read);
        try (GgufFile file = GgufFile.open(f32)) {
            assertEquals(type, file.metadata().string("general.architecture"));
            assertEquals("qwen2", file.metadata().string("tokenizer.ggml.pre"));
        }
        int[] ids = {9707, 1879, 11, 1246, 525, 498, 30};
        try (LlamaModel original = new LlamaModel(c, w, null); LlamaModel back = LlamaModel.load(f32)) {
            assertSameModel(original, back, ids);
        }
    }

    /**
     * The model read back from an F32 file holds the original's tensors bit for bit, and computes its logits to
     * rounding: its matrices, mapped from the file, are multiplied in an order of their own ({@code PanelGemv}: one
     * chain of fused multiply-adds per output), the original's, held in memory, in the streaming kernel's.
     */
    private static void assertSameModel(LlamaModel original, LlamaModel read, int[] ids) {
        Map<String, Object> expected = NamedTensors.of(original.weights());
        Map<String, Object> actual = NamedTensors.of(read.weights());
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            assertArrayEquals(floats(expected.get(name)), floats(actual.get(name)), name);
        }
        float[] want = original.logits(original.forward(original.newCache(ids.length), ids), 0, ids.length);
        float[] got = read.logits(read.forward(read.newCache(ids.length), ids), 0, ids.length);
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), "logit " + i);
        }
    }

    private static float[] floats(Object tensor) {
        if (tensor instanceof float[] vector) {
            return vector;
        }
        WeightMatrix m = (WeightMatrix) tensor;
        float[] out = new float[m.rows() * m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            m.copyRow(r, out, r * m.cols());
        }
        return out;
    }

    /** {@code general.name} and {@code general.size_label} as gguf-py derives them. */
    @Test
    void nameAndSizeLabel() {
        assertEquals("Tiny Llama", GgufExport.nameFromDirectory("tiny-llama"));
        assertEquals("Qwen2.5 0.5b Instruct", GgufExport.nameFromDirectory("qwen2.5-0.5b-instruct"));
        assertEquals("Llama 3.2 1B v2 Tiny_Llama", GgufExport.nameFromDirectory("llama-3.2-1B-v2-tiny_llama"));
        assertEquals("4.2M", GgufExport.sizeLabel(4_188_480));
        assertEquals("135M", GgufExport.sizeLabel(134_515_008));
        assertEquals("1.1B", GgufExport.sizeLabel(1_100_048_384));
        assertEquals("70K", GgufExport.sizeLabel(70_000));
    }

    @Test
    void aTokenizerLargerThanTheEmbeddingIsRefusedAndNothingIsWritten() throws Exception {
        Path model = Shared.require("models/tiny-llama");
        Path out = tmp.resolve("out.gguf");
        try (LlamaModel m = LlamaModel.load(model)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GgufExport.write(out, m.config(), m.weights(), Shared.require("tokenizers/qwen3"), "x",
                            GgmlType.F16));
            assertTrue(e.getMessage().contains("has 151669 tokens for an embedding of 32000 rows"), e.getMessage());
        }
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(), files.toList());
        }
    }

    /** The written file, read back by Tailor's GGUF reader, gives the logits and loss of the type's golden. */
    private static void checkGoldenForward(Path file, String type) throws Exception {
        boolean f32 = type.equals("f32");
        Path golden = Shared.require(f32 ? "golden/tiny-llama/forward.safetensors"
                : "golden/tiny-llama-gguf/golden-" + type + ".safetensors");
        double goldenLoss = JSON.readTree(Shared.require(f32 ? "golden/tiny-llama/forward.json"
                : "golden/tiny-llama-gguf/golden-" + type + ".json").toFile()).get("loss").asDouble();
        try (LlamaModel model = LlamaModel.load(file); SafetensorsFile g = SafetensorsFile.open(golden)) {
            GoldenTensors.Forward f = GoldenTensors.forward(model, g);
            assertTrue(f.maxLogitError() <= 1e-4, type + ": max abs logit error " + f.maxLogitError());
            assertEquals(goldenLoss, f.loss(), 1e-5, type + ": loss");
        }
    }

    private static boolean deepEquals(Object a, Object b) {
        if (a != null && b != null && a.getClass().isArray() && b.getClass().isArray()) {
            int n = Array.getLength(a);
            if (n != Array.getLength(b)) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (!Objects.equals(Array.get(a, i), Array.get(b, i))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }
}
