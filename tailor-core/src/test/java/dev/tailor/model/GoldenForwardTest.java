package dev.tailor.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.io.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

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
            int[][] ids = GoldenTensors.longs(g, "ids");
            int[][] labels = GoldenTensors.longs(g, "labels");
            int vocab = model.config().vocabSize();
            var expected = g.data("logits");
            double maxErr = 0;
            CausalLmLoss.Total total = new CausalLmLoss.Total(0, 0);
            for (int b = 0; b < ids.length; b++) {
                int seq = ids[b].length;
                float[] hidden = model.forward(model.newCache(seq), ids[b]);
                float[] logits = model.logits(hidden, 0, seq);
                for (int i = 0; i < seq * vocab; i++) {
                    float e = expected.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) b * seq * vocab + i);
                    maxErr = Math.max(maxErr, Math.abs(e - logits[i]));
                }
                total = total.plus(CausalLmLoss.total(logits, vocab, labels[b]));
            }
            assertTrue(maxErr <= 1e-4, "max abs logit error " + maxErr);
            assertEquals(goldenLoss, total.mean(), 1e-5);
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
}
