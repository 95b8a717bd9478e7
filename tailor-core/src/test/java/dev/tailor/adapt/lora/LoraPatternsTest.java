package dev.tailor.adapt.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PEFT's rank_pattern / alpha_pattern: key matching as get_pattern_key, per-module rank and scale, round trip. */
class LoraPatternsTest {
    private static final ModelConfig QWEN2 = TinyRandomLlama.QWEN2;
    private static final String Q0 = "model.layers.0.self_attn.q_proj";
    private static final String Q1 = "model.layers.1.self_attn.q_proj";
    private static final String DOWN0 = "model.layers.0.mlp.down_proj";
    private static final String DOWN1 = "model.layers.1.mlp.down_proj";

    private static Map<String, Integer> ranks(Object... keyValues) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], (Integer) keyValues[i + 1]);
        }
        return m;
    }

    @Test
    void keysMatchAWholeNameOrThePartAfterADotAsPeftsGetPatternKey() {
        assertEquals("q_proj", LoraPatterns.patternKey(List.of("q_proj"), Q0));
        assertEquals("self_attn.q_proj", LoraPatterns.patternKey(List.of("self_attn.q_proj"), Q0));
        assertEquals(Q0, LoraPatterns.patternKey(List.of(Q0), Q0), "a full name");
        assertNull(LoraPatterns.patternKey(List.of(Q0), Q1));
        assertNull(LoraPatterns.patternKey(List.of("proj"), Q0), "not after a dot");
        assertNull(LoraPatterns.patternKey(List.of("self_attn"), Q0), "must reach the end of the name");
        assertNull(LoraPatterns.patternKey(List.of("layers.1.mlp.down_proj"),
                "model.layers.11.mlp.down_proj"), "layer 1 is not layer 11");
        assertEquals("layers.1.mlp.down_proj", LoraPatterns.patternKey(List.of("layers.1.mlp.down_proj"), DOWN1));
        String regex = "model\\.layers\\.0\\..*";
        assertEquals(regex, LoraPatterns.patternKey(List.of(regex), DOWN0), "a regular expression of the whole name");
        assertNull(LoraPatterns.patternKey(List.of(regex), DOWN1));
        assertEquals("q_proj|v_proj", LoraPatterns.patternKey(List.of("q_proj|v_proj"),
                "model.layers.1.self_attn.v_proj"), "an alternation is one group, as PEFT's (...)");
        assertEquals("mlp.*", LoraPatterns.patternKey(List.of(Q0, "mlp.*", "down_proj"), DOWN0), "the first key wins");
    }

    @Test
    void modulesGetTheirPatternsRankAndAlphaAndSaveAndLoadWithTheSameScale(@TempDir Path dir) throws Exception {
        for (boolean rslora : new boolean[] {false, true}) {
            LoraConfig settings = new LoraConfig(4, 8, 0, List.of("q_proj", "down_proj"), rslora, null);
            LoraPatterns patterns = new LoraPatterns(ranks("q_proj", 6, DOWN0, 2), Map.of("mlp.down_proj", 3.0));
            LlamaWeights base = TinyRandomLlama.weights(QWEN2, 5);
            LoraModel model = LoraModel.create(settings, patterns, QWEN2, base, 7);
            Map<String, int[]> rankAlpha = Map.of(Q0, new int[] {6, 8}, Q1, new int[] {6, 8},
                    DOWN0, new int[] {2, 3}, DOWN1, new int[] {4, 3});
            assertEquals(rankAlpha.keySet(), model.modules().keySet());
            rankAlpha.forEach((module, ra) -> {
                LoraLayer pair = model.modules().get(module);
                int[] shape = LoraConfig.shape(QWEN2, module);
                assertEquals(ra[0], pair.rank(), module);
                assertArrayEquals(new long[] {ra[0], shape[1]}, pair.parameters().get(0).shape(), module + " A");
                assertArrayEquals(new long[] {shape[0], ra[0]}, pair.parameters().get(1).shape(), module + " B");
                // PEFT's LoraLayer.update_layer: scaling = alpha / sqrt(r) with use_rslora, else alpha / r
                float scale = (float) (rslora ? ra[1] / Math.sqrt(ra[0]) : (double) ra[1] / ra[0]);
                assertEquals(scale, pair.scale(), module + " scale");
            });

            TinyRandomLlama.perturb(model.sites().parameters(), 0.1, 3);
            PackedSequence seq = TinyRandomLlama.packed(4);
            float[] logits = TrainableLlama.create(QWEN2, base, name -> false, model.sites()).logits(seq);
            Path out = dir.resolve("rslora-" + rslora);
            model.save(out, "qwen2-tiny", null);
            JsonNode config = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
            assertEquals(2, config.get("rank_pattern").size());
            assertEquals(6, config.get("rank_pattern").get("q_proj").asInt());
            assertEquals(2, config.get("rank_pattern").get(DOWN0).asInt());
            assertEquals(3, config.get("alpha_pattern").get("mlp.down_proj").asInt());
            LoraModel loaded = (LoraModel) AdapterFiles.load(out);
            rankAlpha.keySet().forEach(module -> assertEquals(model.modules().get(module).scale(),
                    loaded.modules().get(module).scale(), module + " scale after loading"));
            assertArrayEquals(logits, TrainableLlama.create(QWEN2, base, name -> false, loaded.sites()).logits(seq));
        }
    }

    @Test
    void badPatternsAreRefusedNamingTheOptionAndKey() {
        List<String> modules = new LoraConfig(4, 8, 0, List.of("q_proj", "down_proj"), false, null).modules(QWEN2);
        var zero = assertThrows(IllegalArgumentException.class, () -> new LoraPatterns(ranks("q_proj", 0), Map.of()));
        assertTrue(zero.getMessage().contains("rank_pattern: \"q_proj=0\""), zero.getMessage());
        var empty = assertThrows(IllegalArgumentException.class, () -> new LoraPatterns(ranks(" ", 2), Map.of()));
        assertTrue(empty.getMessage().startsWith("rank_pattern: empty module name"), empty.getMessage());
        var regex = assertThrows(IllegalArgumentException.class,
                () -> new LoraPatterns(Map.of(), Map.of("q_proj(", 2.0)));
        assertTrue(regex.getMessage().startsWith("alpha_pattern: \"q_proj(\" is not a valid regular expression"),
                regex.getMessage());
        var nan = assertThrows(IllegalArgumentException.class,
                () -> new LoraPatterns(Map.of(), Map.of("q_proj", Double.NaN)));
        assertTrue(nan.getMessage().contains("alpha_pattern: \"q_proj=NaN\""), nan.getMessage());

        var untargeted = assertThrows(IllegalArgumentException.class,
                () -> new LoraPatterns(ranks("v_proj", 2), Map.of()).check(modules));
        assertTrue(untargeted.getMessage().startsWith("rank_pattern: \"v_proj\" matches no targeted module"),
                untargeted.getMessage());
        // given order: q_proj (8) wins for layer 0; saved sorted, model.layers.0... (2) would win on loading
        var overlap = assertThrows(IllegalArgumentException.class,
                () -> new LoraPatterns(ranks("q_proj", 8, Q0, 2), Map.of()).check(modules));
        assertTrue(overlap.getMessage().contains("\"q_proj\" and \"" + Q0 + "\" both match " + Q0),
                overlap.getMessage());
        new LoraPatterns(ranks(Q0, 2, "q_proj", 8), Map.of()).check(modules);
        new LoraPatterns(ranks("q_proj", 8, Q0, 8), Map.of()).check(modules);
    }
}
