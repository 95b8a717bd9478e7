package dev.tailor.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The forward pass against logits and loss computed by an independent PyTorch implementation. */
class GoldenForwardTest {

    @Test
    void logitsAndLossMatchGolden() throws Exception {
        Path modelDir = Shared.require("models/tiny-llama");
        Path golden = Shared.require("golden/tiny-llama/forward.safetensors");
        double goldenLoss = new ObjectMapper().readTree(Shared.require("golden/tiny-llama/forward.json").toFile())
                .get("loss").asDouble();
        try (LlamaModel model = LlamaModel.load(modelDir); SafetensorsFile g = SafetensorsFile.open(golden)) {
            GoldenTensors.Forward f = GoldenTensors.forward(model, g);
            assertTrue(f.maxLogitError() <= 1e-4, "max abs logit error " + f.maxLogitError());
            assertEquals(goldenLoss, f.loss(), 1e-5);
        }
    }

    @Test
    void cachedDecodeMatchesFullForward() {
        Path modelDir = Shared.require("models/tiny-llama");
        try (LlamaModel model = LlamaModel.load(modelDir)) {
            int[] ids = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366};
            float[] full = model.logits(model.forward(model.newCache(16), ids), 0, ids.length);
            KvCache cache = model.newCache(16);
            int vocab = model.config().vocabSize();
            float[] last = model.prefill(cache, java.util.Arrays.copyOf(ids, 4));
            for (int t = 4; t <= ids.length; t++) {
                for (int i = 0; i < vocab; i++) {
                    assertEquals(full[(t - 1) * vocab + i], last[i], 1e-4, "position " + (t - 1));
                }
                if (t < ids.length) {
                    last = model.decode(cache, ids[t]);
                }
            }
        }
    }

    /**
     * A long prompt prefilled in two chunks (the second attends to cached positions, across several query blocks)
     * gives the logits of the training model's attention, an independent implementation, over the whole sequence.
     */
    @Test
    void chunkedPrefillOfALongPromptMatchesTheTrainingForward() {
        Path modelDir = Shared.require("models/tiny-llama");
        try (LlamaModel model = LlamaModel.load(modelDir)) {
            int vocab = model.config().vocabSize();
            int n = 150;
            int[] ids = new SplittableRandom(7).ints(n, 3, vocab).toArray();
            int[] positions = new int[n];
            for (int t = 0; t < n; t++) {
                positions[t] = t;
            }
            float[] expected = TrainableLlama.create(model.config(), model.weights(), name -> false)
                    .logits(new PackedSequence(ids, ids.clone(), positions, new int[n]));
            KvCache cache = model.newCache(n);
            int split = 53;
            float[] first = model.logits(model.forward(cache, java.util.Arrays.copyOf(ids, split)), 0, split);
            float[] second = model.logits(model.forward(cache, java.util.Arrays.copyOfRange(ids, split, n)), 0,
                    n - split);
            for (int i = 0; i < n * vocab; i++) {
                float actual = i < split * vocab ? first[i] : second[i - split * vocab];
                assertEquals(expected[i], actual, 1e-4, "position " + i / vocab);
            }
        }
    }
}
