package dev.tailor.adapt;

import dev.tailor.model.site.AdapterSites;
import dev.tailor.Shared;
import dev.tailor.adapt.lora.LoraFiles;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Merging the golden LoRA adapter gives the adapted model's logits, stacks add up, and the base is untouched. */
class AdapterMergeTest {

    @Test
    void mergedWeightsGiveTheAdaptedLogitsAndLeaveTheBaseAlone() {
        Path golden = Shared.require("golden/tiny-llama/lora");
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"))) {
            int[] ids = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366};
            float[] before = logits(base, ids);
            List<AdapterSites> once = AdapterStack.sites(AdapterStack.load(List.of(golden), null, true));
            List<AdapterSites> twice = AdapterStack.sites(AdapterStack.load(List.of(golden, golden), null, true));
            assertEquals(2, twice.size());
            for (List<AdapterSites> sites : List.of(once, twice)) {
                float[] adapted = logits(base.withAdapters(sites), ids);
                LlamaWeights merged = AdapterMerge.merge(base.weights(), sites);
                assertSame(base.weights().embed(), merged.embed(), "untargeted tensors stay in place");
                float[] fromMerged = logits(new LlamaModel(base.config(), merged, null), ids);
                double diff = 0;
                for (int i = 0; i < adapted.length; i++) {
                    diff = Math.max(diff, Math.abs(adapted[i] - fromMerged[i]));
                }
                assertTrue(diff < 2e-5, "merged vs adapted: " + diff);
            }
            float[] after = logits(base, ids);
            for (int i = 0; i < before.length; i++) {
                assertEquals(Float.floatToIntBits(before[i]), Float.floatToIntBits(after[i]), "base changed at " + i);
            }
            var e = assertThrows(IllegalArgumentException.class, () -> AdapterMerge.merge(base.weights(),
                    List.of(AdapterSites.ofLinear(Map.of("model.layers.9.mlp.up_proj",
                            once.getFirst().linear().get("model.layers.0.mlp.up_proj"))))));
            assertTrue(e.getMessage().contains("model.layers.9.mlp.up_proj"), e.getMessage());
            assertTrue(LoraFiles.load(golden).size() == 14);
        }
    }

    private static float[] logits(LlamaModel m, int[] ids) {
        return m.logits(m.forward(m.newCache(ids.length), ids), 0, ids.length);
    }
}
