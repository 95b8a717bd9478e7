package dev.tailor.model;

import dev.tailor.Shared;
import dev.tailor.io.ModelFiles;
import dev.tailor.io.ForwardingTensorSource;
import dev.tailor.io.TensorSource;
import dev.tailor.io.gguf.GgufTensorSource;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A safetensors model quantized at load ({@link LoadOptions}) holds, tensor for tensor, the bytes {@code llama-quantize}
 * wrote into the shared tiny Llama's Q8_0 and Q4_0 GGUF files (Q and K rows un-permuted there), keeps the rest in its
 * stored type, computes what the GGUF model computes, and has the full-precision base's fingerprint.
 */
class QuantizedLoadTest {

    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_0"})
    void quantizedAtLoadEqualsLlamaQuantizesFile(String type) {
        Path hf = Shared.require("models/tiny-llama");
        Path gguf = Shared.require("models/tiny-llama-gguf/tiny-llama-" + type.toLowerCase() + ".gguf");
        ModelConfig config = ModelConfig.load(gguf);
        try (LlamaModel model = LlamaModel.load(hf, LoadOptions.quantized(type));
             GgufTensorSource file = GgufTensorSource.open(gguf)) {
            // the file's tensors seen as held in memory: its Q8_0 matrices take the float products, as ours do
            TensorSource inMemory = new Without(file, "none");
            LlamaModel reference = new LlamaModel(config, LlamaWeights.bind(config, inMemory), inMemory);
            Map<String, Object> ours = NamedTensors.of(model.weights());
            int quantized = 0;
            for (var e : ours.entrySet()) {
                if (!(e.getValue() instanceof WeightMatrix w)) {
                    continue;
                }
                DType fileType = file.info(e.getKey()).dtype();
                if (w.cols() % 32 != 0) {
                    assertEquals(DType.F32, w.dtype(), e.getKey() + " keeps its stored type (its rows are no blocks)");
                    assertEquals(DType.F16, fileType, e.getKey() + ": llama-quantize's F16 fallback");
                    assertTrue(w.dropsMappedPages(), e.getKey() + " is the safetensors file's mapped bytes");
                    continue;
                }
                assertEquals(fileType, w.dtype(), e.getKey());
                assertEquals(-1, w.data().mismatch(file.data(e.getKey())), e.getKey() + ": llama-quantize's bytes");
                assertFalse(w.dropsMappedPages(), e.getKey() + " is held in memory, so it has no pages to drop");
                quantized++;
            }
            assertEquals(14, quantized);
            assertEquals(DType.Q8_0, model.weights().lmHead().dtype(), "Q8_0 at both types, as in the files");
            assertEquals(DType.valueOf(type), model.weights().embed().dtype());
            float[] ours0 = model.prefill(model.newCache(8), new int[] {1, 450, 4996, 17354, 1701, 432, 29989, 29889});
            float[] theirs = reference.prefill(reference.newCache(8),
                    new int[] {1, 450, 4996, 17354, 1701, 432, 29989, 29889});
            double maxDiff = 0;
            for (int i = 0; i < ours0.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(ours0[i] - theirs[i]));
            }
            assertTrue(maxDiff < 2e-2, type + ": only down_proj's F32 against F16 differs, max logit diff " + maxDiff);
        }
    }

    /** A tied embedding is the output matrix: Q8_0 under Q4_0, as llama-quantize treats {@code token_embd} then. */
    @Test
    void aTiedEmbeddingIsQuantizedAsTheOutput() {
        Path hf = Shared.require("models/tiny-llama");
        ModelConfig c = ModelConfig.load(hf);
        ModelConfig tied = new ModelConfig(c.modelType(), c.hiddenSize(), c.intermediateSize(), c.numLayers(),
                c.numHeads(), c.numKvHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.ropeScaling(),
                c.vocabSize(), c.maxPositions(), true, c.attentionBias(), c.qkNorm(), c.bosTokenId(), c.eosTokenIds());
        TensorSource stored = ModelFiles.open(hf);
        try (QuantizingSource untied = new QuantizingSource(stored, c, LoadOptions.quantized("Q4_0"))) {
            QuantizingSource q4 = new QuantizingSource(new Without(stored, "lm_head.weight"), tied,
                    LoadOptions.quantized("Q4_0"));
            assertEquals(DType.Q8_0, q4.info("model.embed_tokens.weight").dtype());
            assertEquals(DType.Q4_0, q4.info("model.layers.0.self_attn.q_proj.weight").dtype());
            assertEquals(DType.F32, q4.info("model.layers.0.mlp.down_proj.weight").dtype());
            assertEquals(DType.F32, q4.info("model.norm.weight").dtype());
            assertEquals(DType.Q4_0, untied.info("model.embed_tokens.weight").dtype());
            assertEquals(DType.Q8_0, untied.info("lm_head.weight").dtype());
            assertEquals(32000L * 68, untied.data("lm_head.weight").byteSize());
        }
    }

    /**
     * A tensor quantized at load is held in memory, so dropping its mapped pages is not passed to the file (whose
     * stored tensor was released when it was quantized); any other tensor's is.
     */
    @Test
    void onlyTensorsUsedInPlaceDropTheirMappedPages() {
        Path hf = Shared.require("models/tiny-llama");
        ModelConfig c = ModelConfig.load(hf);
        try (TensorSource stored = ModelFiles.open(hf)) {
            Without files = new Without(stored, "none");
            QuantizingSource q4 = new QuantizingSource(files, c, LoadOptions.quantized("Q4_0"));
            String up = "model.layers.0.mlp.up_proj.weight";
            MemorySegment quantized = q4.data(up);
            byte[] bytes = quantized.toArray(ValueLayout.JAVA_BYTE);
            q4.dropMappedPages(up);
            q4.dropMappedPages("model.norm.weight");
            assertEquals(List.of("model.norm.weight"), files.dropped());
            assertArrayEquals(bytes, quantized.toArray(ValueLayout.JAVA_BYTE));
            QuantizingSource q8 = new QuantizingSource(stored, c, LoadOptions.quantized("Q8_0"));
            assertFalse(q8.mappedInPlace(up), "quantized at load: held in memory");
            assertTrue(q8.mappedInPlace("model.norm.weight"), "the safetensors file's bytes");
        }
    }

    @Test
    void onlyQ8_0AndQ4_0AreLoadTypes() {
        assertEquals(LoadOptions.DEFAULT, LoadOptions.quantized(null));
        assertEquals(new LoadOptions(DType.Q4_0), LoadOptions.quantized("q4_0"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.quantized("Q4_K"));
        assertEquals("--quantize must be Q8_0 or Q4_0, got \"Q4_K\"", bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LoadOptions(DType.F16));
    }

    /**
     * {@code inner} without the tensor {@code hidden}, its bytes seen as held in memory (not mapped in place),
     * recording the tensors it was asked to drop the pages of.
     */
    private static final class Without extends ForwardingTensorSource {
        private final String hidden;
        private final List<String> dropped = new ArrayList<>();

        Without(TensorSource inner, String hidden) {
            super(inner);
            this.hidden = hidden;
        }

        List<String> dropped() {
            return dropped;
        }

        @Override
        public void dropMappedPages(String name, long from, long to) {
            dropped.add(name);
        }

        @Override
        public Set<String> names() {
            Set<String> names = new LinkedHashSet<>(inner.names());
            names.remove(hidden);
            return names;
        }

        @Override
        public boolean contains(String name) {
            return !name.equals(hidden) && inner.contains(name);
        }

        @Override
        public void close() {
        }
    }
}
