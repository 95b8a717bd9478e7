package dev.tailor.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.Shared;
import dev.tailor.io.TensorFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A config that contradicts the tensors, and prompts longer than the context, fail clearly. */
class ModelLoadErrorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path copyWithConfig(Path dir, java.util.function.Consumer<ObjectNode> edit) throws Exception {
        Path src = Shared.require("models/tiny-llama");
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        edit.accept(config);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        return dir;
    }

    @Test
    void configContradictingTensorShapesNamesTheTensor(@TempDir Path dir) throws Exception {
        copyWithConfig(dir, c -> c.put("intermediate_size", 200));
        var e = assertThrows(TensorFormatException.class, () -> LlamaModel.load(dir));
        assertTrue(e.getMessage().contains("mlp.gate_proj.weight") && e.getMessage().contains("[176, 64]")
                && e.getMessage().contains("[200, 64]"), e.getMessage());
    }

    @Test
    void moreLayersThanTheFileHoldsNamesTheMissingTensor(@TempDir Path dir) throws Exception {
        copyWithConfig(dir, c -> c.put("num_hidden_layers", 3));
        var e = assertThrows(TensorFormatException.class, () -> LlamaModel.load(dir));
        assertTrue(e.getMessage().contains("model.layers.2.") && e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void farMoreLayersThanAnyModelNamesTheMissingTensor(@TempDir Path dir) throws Exception {
        // once an OutOfMemoryError: the list of layers was sized for the config's count before any was bound
        copyWithConfig(dir, c -> c.put("num_hidden_layers", Integer.MAX_VALUE));
        var e = assertThrows(TensorFormatException.class, () -> LlamaModel.load(dir));
        assertTrue(e.getMessage().contains("model.layers.2.") && e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void aContextOfEveryIntPositionLoadsAndRuns(@TempDir Path dir) throws Exception {
        // once an exception from RoPE tables sized for every position of the context
        copyWithConfig(dir, c -> c.put("max_position_embeddings", Integer.MAX_VALUE));
        try (LlamaModel model = LlamaModel.load(dir)) {
            assertTrue(model.contextLength() > 1_000_000_000);
            float[] logits = model.forward(model.newCache(8), new int[] {1, 2, 3});
            assertTrue(Float.isFinite(logits[0]));
        }
    }

    @Test
    void qwen2ConfigOnLlamaWeightsNamesTheMissingBias(@TempDir Path dir) throws Exception {
        copyWithConfig(dir, c -> c.put("model_type", "qwen2"));
        var e = assertThrows(TensorFormatException.class, () -> LlamaModel.load(dir));
        assertTrue(e.getMessage().contains("q_proj.bias"), e.getMessage());
    }

    @Test
    void promptLongerThanTheContextIsRefused() {
        try (LlamaModel model = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            int context = model.config().maxPositions();
            assertThrows(IllegalArgumentException.class, () -> model.newCache(context + 1));
            KvCache cache = model.newCache(context);
            var e = assertThrows(ContextOverflowException.class, () -> model.forward(cache, new int[context + 1]));
            assertTrue(e.getMessage().contains(String.valueOf(context)), e.getMessage());
        }
    }
}
