package dev.tailor.io.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.io.ForwardingTensorSource;
import dev.tailor.io.ModelFiles;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.StoredRows;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorSource;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.NamedTensors;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import dev.tailor.tensor.Quantization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GGUF models made by llama.cpp's converter and quantizer against logits and losses computed from the same files
 * by independent implementations, and against the safetensors model they were converted from.
 */
class GgufModelTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The F32 file against the safetensors model's golden (its README: they are identical), the others their own. */
    @ParameterizedTest
    @ValueSource(strings = {"f32", "f16", "q8_0", "q4_0"})
    void tinyLlamaLogitsAndLossMatchTheGoldens(String type) throws Exception {
        Path model = Shared.require("models/tiny-llama-gguf/tiny-llama-" + type + ".gguf");
        boolean f32 = type.equals("f32");
        Path golden = Shared.require(f32 ? "golden/tiny-llama/forward.safetensors"
                : "golden/tiny-llama-gguf/golden-" + type + ".safetensors");
        double loss = JSON.readTree(Shared.require(f32 ? "golden/tiny-llama/forward.json"
                : "golden/tiny-llama-gguf/golden-" + type + ".json").toFile()).get("loss").asDouble();
        checkForward(model, golden, loss, 1e-4, 1e-5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"q4_k_m", "q5_k_m", "q6_k"})
    void kQuantLogitsAndLossMatchTheGoldens(String type) throws Exception {
        Path model = Shared.require("models/tiny-llama-256-gguf/tiny-llama-256-" + type + ".gguf");
        Path golden = Shared.require("golden/tiny-llama-256-gguf-kquants/golden-" + type + ".safetensors");
        double loss = JSON.readTree(Shared.require("golden/tiny-llama-256-gguf-kquants/golden-" + type + ".json")
                .toFile()).get("loss").asDouble();
        checkForward(model, golden, loss, 1e-4, 1e-5);
    }

    /**
     * A quantized file's weights (Q8_0, Q4_0, and the K-quant mixes llama.cpp writes) stay quantized: each bound
     * matrix has the file's type and exactly the file's bytes for it (so the resident weights are the quantized size),
     * read in place from the mapping (and so dropping its pages) except the un-permuted Q and K, which are copies of
     * the same size (Q4_0 and Q8_0 ones made only when read: their products regroup the file's rows); the F16 ones
     * stay F16.
     */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-gguf/tiny-llama-q8_0", "tiny-llama-gguf/tiny-llama-q4_0",
        "tiny-llama-256-gguf/tiny-llama-256-q4_k_m", "tiny-llama-256-gguf/tiny-llama-256-q5_k_m",
        "tiny-llama-256-gguf/tiny-llama-256-q6_k"})
    void quantizedWeightsStayQuantizedAtTheirFileSize(String type) {
        Path path = Shared.require("models/" + type + ".gguf");
        try (GgufTensorSource source = GgufTensorSource.open(path)) {
            LlamaWeights weights = LlamaWeights.bind(ModelConfig.load(path), source);
            GgufFile file = source.file();
            long fileBytes = 0;
            long boundBytes = 0;
            int quantized = 0;
            for (var e : NamedTensors.of(weights).entrySet()) {
                if (!(e.getValue() instanceof WeightMatrix w)) {
                    continue;
                }
                GgufTensor t = file.tensors().stream()
                        .filter(g -> GgufNames.huggingFace(g.name()).equals(e.getKey())).findFirst().orElseThrow();
                assertEquals(DType.fromGgml(t.type().id()), w.dtype(), e.getKey());
                assertEquals(t.bytes(), w.data().byteSize(), e.getKey());
                boolean inPlace = !GgufNames.isQueryOrKey(t.name());
                assertEquals(inPlace, w.data().address() == file.data(t).address(), e.getKey() + " in place");
                assertEquals(inPlace, source.mappedInPlace(e.getKey()), e.getKey() + " mapped in place");
                // Q4_0 and Q8_0 Q and K are regrouped from the file's rows, and drop those pages; other copies do not
                boolean fromFile = inPlace || w.dtype() == DType.Q4_0 || w.dtype() == DType.Q8_0;
                assertEquals(fromFile, w.dropsMappedPages(), e.getKey() + " drops its mapped pages");
                fileBytes += t.bytes();
                boundBytes += w.data().byteSize();
                quantized += w.dtype().isQuantized() ? 1 : 0;
            }
            assertEquals(fileBytes, boundBytes);
            // the 14 layer matrices of both models; llama.cpp's K-quant mixes quantize the embedding too
            assertEquals(type.contains("256") ? 15 : 14, quantized);
            assertTrue(boundBytes < (type.endsWith("q4_0") ? 0.25 : 0.3) * f32MatrixBytes(weights),
                    type + ": " + boundBytes + " bytes of weight matrices");
        }
    }

    /**
     * Dropping a tensor's mapped pages (a byte range of them, or all) takes them out of the process's resident memory
     * and keeps its bytes: read again, they come back from the file. A tensor the source holds as a copy (GGUF's
     * permuted Q and K, un-permuted) keeps its copy.
     */
    @Test
    void droppedMappedPagesLeaveResidentMemoryAndReadBackTheSame() throws Exception {
        Path path = Shared.require("models/tiny-llama-gguf/tiny-llama-q4_0.gguf");
        try (GgufTensorSource source = GgufTensorSource.open(path)) {
            String embed = "model.embed_tokens.weight";
            MemorySegment data = source.data(embed);
            assertTrue(data.byteSize() > 1 << 20, "a tensor of several hundred pages: " + data.byteSize());
            byte[] bytes = data.toArray(ValueLayout.JAVA_BYTE);
            long before = residentBytesOf(path);
            long half = data.byteSize() / 2;
            source.dropMappedPages(embed, 0, half);
            long halfway = residentBytesOf(path);
            assertTrue(halfway <= before - half + 2 * 4096 && halfway >= before - half - 2 * 4096,
                    "a range drops its pages alone: " + before + " before, " + halfway + " after");
            assertThrows(IndexOutOfBoundsException.class,
                    () -> source.dropMappedPages(embed, half, data.byteSize() + 1));
            source.dropMappedPages(embed);
            long after = residentBytesOf(path);
            assertTrue(after <= before - data.byteSize() + 2 * 4096,
                    "resident bytes of the file: " + before + " before, " + after + " after");
            assertArrayEquals(bytes, source.data(embed).toArray(ValueLayout.JAVA_BYTE));
            String query = "model.layers.0.self_attn.q_proj.weight";
            byte[] copied = source.data(query).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment copy = source.data(query);
            source.dropMappedPages(query);
            assertArrayEquals(copied, copy.toArray(ValueLayout.JAVA_BYTE), "the copy is still there");
            TensorFormatException missing = assertThrows(TensorFormatException.class,
                    () -> source.dropMappedPages("model.layers.9.mlp.up_proj.weight"));
            assertTrue(missing.getMessage().contains("model.layers.9.mlp.up_proj.weight"), missing.getMessage());
        }
    }

    /**
     * Decoding on a Q4_0 file regroups its matrices for the integer products and drops the file's pages it copied
     * from; a second prompt and decode (its prefill, the embedding rows) read the file again and give the same logits.
     */
    @Test
    void q4_0DecodingReadsDroppedPagesBackTheSame() {
        Path path = Shared.require("models/tiny-llama-gguf/tiny-llama-q4_0.gguf");
        try (LlamaModel model = LlamaModel.load(path)) {
            int[] prompt = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 3, 29871, 13};
            float[] first = promptThenDecode(model, prompt);
            assertArrayEquals(first, promptThenDecode(model, prompt));
        }
    }

    /**
     * Decoding a Q4_0 or Q8_0 file (a prefill, then steps) multiplies GGUF's permuted Q and K from the file's rows:
     * their copies in Hugging Face's order are never made. Q4_0's logits are those of the same file bound with the
     * copies, bit for bit (both take the integer products; a Q8_0 copy held in memory takes the float ones).
     */
    @ParameterizedTest
    @ValueSource(strings = {"q8_0", "q4_0"})
    void decodingRegroupsQAndKFromTheFilesRowsWithoutCopies(String type) {
        Path path = Shared.require("models/tiny-llama-gguf/tiny-llama-" + type + ".gguf");
        int[] prompt = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 3, 29871, 13};
        ModelConfig config = ModelConfig.load(path);
        float[] logits;
        ReadsCounted source = new ReadsCounted(GgufTensorSource.open(path), false);
        try (LlamaModel model = new LlamaModel(config, LlamaWeights.bind(config, source), source)) {
            logits = promptThenDecode(model, prompt);
            assertEquals(List.of(), source.queryKeyReads, "copies of Q and K read");
        }
        ReadsCounted bound = new ReadsCounted(GgufTensorSource.open(path), true);
        try (LlamaModel copies = new LlamaModel(config, LlamaWeights.bind(config, bound), bound)) {
            float[] withCopies = promptThenDecode(copies, prompt);
            assertEquals(2 * config.numLayers(), Set.copyOf(bound.queryKeyReads).size(), "the copies bound instead");
            if (type.equals("q4_0")) {
                assertArrayEquals(withCopies, logits);
            }
        }
    }

    /** A GGUF source that records reads of Q's and K's bytes in order, and may hide their stored rows. */
    private static final class ReadsCounted extends ForwardingTensorSource {
        private final boolean hideStoredRows;
        final List<String> queryKeyReads = new ArrayList<>();

        ReadsCounted(GgufTensorSource inner, boolean hideStoredRows) {
            super(inner);
            this.hideStoredRows = hideStoredRows;
        }

        @Override
        public MemorySegment data(String name) {
            if (name.endsWith("q_proj.weight") || name.endsWith("k_proj.weight")) {
                synchronized (queryKeyReads) {
                    queryKeyReads.add(name);
                }
            }
            return inner.data(name);
        }

        @Override
        public void dropMappedPages(String name, long from, long to) {
            inner.dropMappedPages(name, from, to);
        }

        @Override
        public boolean mappedInPlace(String name) {
            return inner.mappedInPlace(name);
        }

        @Override
        public StoredRows storedRows(String name) {
            return hideStoredRows ? null : inner.storedRows(name);
        }
    }

    /** The logits after a prefill of {@code prompt} and three greedy decode steps. */
    private static float[] promptThenDecode(LlamaModel model, int[] prompt) {
        var cache = model.newCache(prompt.length + 4);
        float[] logits = model.prefill(cache, prompt);
        for (int i = 0; i < 3; i++) {
            int next = 0;
            for (int v = 1; v < logits.length; v++) {
                next = logits[v] > logits[next] ? v : next;
            }
            logits = model.decode(cache, next);
        }
        return logits;
    }

    /** Bytes of this process's mappings of {@code file} that are resident ({@code /proc/self/smaps}). */
    private static long residentBytesOf(Path file) throws java.io.IOException {
        String name = file.toRealPath().toString();
        long kib = 0;
        boolean inFile = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                inFile = line.endsWith(" " + name);
            } else if (inFile && line.startsWith("Rss:")) {
                kib += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return kib * 1024;
    }

    /**
     * A K-quant tensor whose super-block scale is not finite (a corrupt download) is refused when the model loads,
     * naming the file, the tensor and the element, before any product reads it.
     */
    @Test
    void aKQuantTensorWithANonFiniteScaleIsRefusedNamingIt(@TempDir Path dir) throws Exception {
        Path original = Shared.require("models/tiny-llama-256-gguf/tiny-llama-256-q4_k_m.gguf");
        byte[] bytes = Files.readAllBytes(original);
        String victim;
        byte[] head;
        try (GgufFile file = GgufFile.open(original)) {
            GgufTensor t = file.tensors().stream()
                    .filter(g -> g.type() == GgmlType.Q4_K && !GgufNames.isQueryOrKey(g.name()))
                    .findFirst().orElseThrow();
            victim = GgufNames.huggingFace(t.name());
            head = file.data(t).asSlice(0, 64).toArray(ValueLayout.JAVA_BYTE);
        }
        int at = indexOf(bytes, head);
        bytes[at + 2] = 0x00;
        bytes[at + 3] = 0x7C;
        Path corrupt = dir.resolve("corrupt.gguf");
        Files.write(corrupt, bytes);
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> LlamaModel.load(corrupt).close());
        assertTrue(e.getMessage().contains(victim) && e.getMessage().contains("non-finite")
                && e.getMessage().contains("at element 0"), e.getMessage());
    }

    /**
     * A non-finite scale in GGUF's permuted Q is found in the file's rows (the copy in order is not made for the scan)
     * and named by its element in Hugging Face's order, as the model reads it.
     */
    @Test
    void aNonFiniteScaleInPermutedRowsIsNamedInTheModelsOrder(@TempDir Path dir) throws Exception {
        Path original = Shared.require("models/tiny-llama-gguf/tiny-llama-q8_0.gguf");
        byte[] bytes = Files.readAllBytes(original);
        byte[] head;
        long rowBytes;
        long rows;
        try (GgufFile file = GgufFile.open(original)) {
            GgufTensor t = file.tensors().stream().filter(g -> g.name().equals("blk.0.attn_q.weight"))
                    .findFirst().orElseThrow();
            head = file.data(t).asSlice(0, 64).toArray(ValueLayout.JAVA_BYTE);
            rowBytes = t.type().bytesFor(Math.toIntExact(t.dims()[0]));
            rows = t.elementCount() / t.dims()[0];
        }
        int at = indexOf(bytes, head);
        int stored = 1;
        bytes[at + (int) rowBytes * stored] = 0x00;
        bytes[at + (int) rowBytes * stored + 1] = 0x7E;
        Path corrupt = dir.resolve("corrupt.gguf");
        Files.write(corrupt, bytes);
        ModelConfig config = ModelConfig.load(original);
        long rowsPerHead = rows / config.numHeads();
        long row = 0;
        while (GgufTensorLayout.storedRow(row, rowsPerHead) != stored) {
            row++;
        }
        assertTrue(row > 1, "stored row 1 is another row of the model: " + row);
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> LlamaModel.load(corrupt).close());
        assertTrue(e.getMessage().contains("model.layers.0.self_attn.q_proj.weight")
                && e.getMessage().contains("non-finite value (NaN) at element " + row * config.hiddenSize()),
                e.getMessage());
    }

    /** The one place {@code needle} stands in {@code hay}. */
    private static int indexOf(byte[] hay, byte[] needle) {
        int found = -1;
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (java.util.Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                assertEquals(-1, found, "the tensor's first bytes stand twice in the file");
                found = i;
            }
        }
        assertTrue(found >= 0);
        return found;
    }

    private static long f32MatrixBytes(LlamaWeights weights) {
        long n = 0;
        for (Object t : NamedTensors.of(weights).values()) {
            if (t instanceof WeightMatrix w) {
                n += 4L * w.rows() * w.cols();
            }
        }
        return n;
    }

    /**
     * Every tensor of the K-quant files, widened to float32 in ggml's order, hashes to the SHA-256 of the values
     * ggml's own {@code to_float} gives (and its first values and sum agree), so the widening is bit-exact.
     */
    @ParameterizedTest
    @ValueSource(strings = {"q4_k_m", "q5_k_m", "q6_k"})
    void everyKQuantTensorDequantizesBitExactly(String type) throws Exception {
        Path model = Shared.require("models/tiny-llama-256-gguf/tiny-llama-256-" + type + ".gguf");
        JsonNode table = JSON.readTree(Shared.require("golden/tiny-llama-256-gguf-kquants/golden-" + type + ".json")
                .toFile()).get("tensor_types");
        int checked = 0;
        try (GgufFile file = GgufFile.open(model)) {
            for (JsonNode expected : table) {
                GgufTensor t = file.tensor(expected.get("name").asText());
                assertEquals(expected.get("type").asText(), t.type().name(), t.name());
                float[] floats = widened(file, t);
                MemorySegment le = MemorySegment.ofArray(new byte[floats.length * 4]);
                MemorySegment.copy(floats, 0, le, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(
                        java.nio.ByteOrder.LITTLE_ENDIAN), 0, floats.length);
                String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                        .digest(le.toArray(ValueLayout.JAVA_BYTE)));
                for (int i = 0; i < 4; i++) {
                    assertEquals((float) expected.get("dequant_first4").get(i).asDouble(), floats[i], t.name());
                }
                assertEquals(expected.get("dequant_sha256").asText(), hash, t.name() + " " + t.type());
                checked++;
            }
        }
        assertEquals(20, checked);
    }

    /**
     * The F32 file's config and tensors, Q/K rows put back in Hugging Face's order, are the safetensors model's, bit
     * for bit, so the two have one base fingerprint.
     */
    @Test
    void f32GgufEqualsTheSafetensorsModel() {
        Path gguf = Shared.require("models/tiny-llama-gguf/tiny-llama-f32.gguf");
        Path hf = Shared.require("models/tiny-llama");
        assertEquals(ModelConfig.load(hf), ModelConfig.load(gguf));
        assertEquals(BaseFingerprint.compute(hf), BaseFingerprint.compute(gguf));
        try (TensorSource a = ModelFiles.open(hf); TensorSource b = GgufTensorSource.open(gguf)) {
            assertEquals(a.names(), b.names());
            for (String name : a.names()) {
                assertArrayEquals(a.info(name).shape(), b.info(name).shape(), name);
                assertEquals(a.info(name).dtype(), b.info(name).dtype(), name);
                assertEquals(-1, a.data(name).mismatch(b.data(name)), name);
            }
        }
    }

    /** The values of {@code t} as float32: K-quants through {@link Quantization}, float types as they are. */
    private static float[] widened(GgufFile file, GgufTensor t) {
        DType type = DType.fromGgml(t.type().id());
        float[] floats = new float[Math.toIntExact(t.elementCount())];
        if (type.isQuantized()) {
            Quantization.dequantizeRow(type, file.data(t), 0, floats.length, floats, 0);
        } else {
            for (int i = 0; i < floats.length; i++) {
                floats[i] = Numerics.load(file.data(t), type, i);
            }
        }
        return floats;
    }

    private static void checkForward(Path modelFile, Path golden, double goldenLoss, double logitTolerance,
                                     double lossTolerance) {
        try (LlamaModel model = LlamaModel.load(modelFile); SafetensorsFile g = SafetensorsFile.open(golden)) {
            GoldenTensors.Forward f = GoldenTensors.forward(model, g);
            assertTrue(f.maxLogitError() <= logitTolerance,
                    modelFile.getFileName() + ": max abs logit error " + f.maxLogitError());
            assertEquals(goldenLoss, f.loss(), lossTolerance, modelFile.getFileName() + ": loss");
        }
    }
}
