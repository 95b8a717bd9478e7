package dev.tailor.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path FILE = Path.of("config.json");

    static ObjectNode llama() {
        ObjectNode n = JSON.createObjectNode();
        n.put("model_type", "llama").put("hidden_size", 64).put("intermediate_size", 176)
                .put("num_hidden_layers", 2).put("num_attention_heads", 4).put("num_key_value_heads", 2)
                .put("vocab_size", 32000).put("rms_norm_eps", 1e-5).put("rope_theta", 10000.0)
                .put("max_position_embeddings", 256).put("bos_token_id", 1).put("eos_token_id", 2);
        return n;
    }

    @Test
    void readsLlamaFields() {
        ModelConfig c = ModelConfig.parse(FILE, llama());
        assertEquals(16, c.headDim());
        assertEquals(64, c.qDim());
        assertEquals(32, c.kvDim());
        assertEquals(List.of(2), c.eosTokenIds());
        assertNull(c.ropeScaling());
        assertTrue(!c.attentionBias() && !c.qkNorm() && !c.tieWordEmbeddings());
    }

    @Test
    void qwen2HasBiasesAndQwen3HasQkNormAndExplicitHeadDim() {
        ObjectNode q2 = llama().put("model_type", "qwen2");
        assertTrue(ModelConfig.parse(FILE, q2).attentionBias());
        ObjectNode q3 = llama().put("model_type", "qwen3").put("head_dim", 32);
        q3.putArray("eos_token_id").add(151645).add(151643);
        ModelConfig c = ModelConfig.parse(FILE, q3);
        assertTrue(c.qkNorm());
        assertEquals(32, c.headDim());
        assertEquals(128, c.qDim());
        assertEquals(List.of(151645, 151643), c.eosTokenIds());
    }

    @Test
    void llama3RopeScalingMatchesTransformers() {
        ObjectNode n = llama().put("hidden_size", 4096).put("num_attention_heads", 32).put("rope_theta", 500000.0);
        n.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        ModelConfig c = ModelConfig.parse(FILE, n);
        double[] inv = new double[64];
        for (int i = 0; i < 64; i++) {
            inv[i] = 1.0 / Math.pow(500000.0, 2.0 * i / 128);
        }
        double[] scaled = inv.clone();
        c.ropeScaling().apply(scaled);
        // High frequencies (wavelength < 8192/4) are untouched, low ones (wavelength > 8192) divided by 8,
        // and the band between interpolates smoothly.
        assertEquals(inv[0], scaled[0], 0);
        assertEquals(inv[63] / 8, scaled[63], 1e-18);
        for (int i = 0; i < 64; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen >= 2048 && wavelen <= 8192) {
                assertTrue(scaled[i] <= inv[i] && scaled[i] >= inv[i] / 8, "band " + i);
            }
        }
    }

    @Test
    void linearRopeScalingDividesFrequencies() {
        ObjectNode n = llama();
        n.putObject("rope_scaling").put("type", "linear").put("factor", 4.0);
        double[] inv = {1.0, 0.5};
        ModelConfig.parse(FILE, n).ropeScaling().apply(inv);
        assertEquals(0.25, inv[0]);
        assertEquals(0.125, inv[1]);
    }

    @Test
    void unsupportedValuesAreNamed() {
        var e1 = assertThrows(ConfigException.class, () -> ModelConfig.parse(FILE, llama().put("model_type", "gpt2")));
        assertTrue(e1.getMessage().contains("model_type") && e1.getMessage().contains("gpt2"), e1.getMessage());
        ObjectNode yarn = llama();
        yarn.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        var e2 = assertThrows(ConfigException.class, () -> ModelConfig.parse(FILE, yarn));
        assertTrue(e2.getMessage().contains("rope_scaling") && e2.getMessage().contains("yarn"), e2.getMessage());
        var e3 = assertThrows(ConfigException.class, () -> ModelConfig.parse(FILE, llama().put("hidden_act", "gelu")));
        assertTrue(e3.getMessage().contains("hidden_act"), e3.getMessage());
        var e4 = assertThrows(ConfigException.class, () -> ModelConfig.parse(FILE, llama().put("num_key_value_heads", 3)));
        assertTrue(e4.getMessage().contains("num_key_value_heads"), e4.getMessage());
        ObjectNode missing = llama();
        missing.remove("hidden_size");
        var e5 = assertThrows(ConfigException.class, () -> ModelConfig.parse(FILE, missing));
        assertTrue(e5.getMessage().contains("hidden_size") && e5.getMessage().contains("config.json"), e5.getMessage());
        var e6 = assertThrows(ConfigException.class, () -> ModelConfig.parse(FILE, llama().put("vocab_size", -5)));
        assertTrue(e6.getMessage().contains("vocab_size"), e6.getMessage());
        // heads × head_dim past an int (once a config whose query projection was [-4, hidden] or [0, hidden])
        var e7 = assertThrows(ConfigException.class, () -> ModelConfig.parse(FILE,
                llama().put("num_attention_heads", 1 << 30).put("num_key_value_heads", 2).put("head_dim", 4)));
        assertTrue(e7.getMessage().contains("num_attention_heads 1073741824") && e7.getMessage().contains("head_dim 4")
                && e7.getMessage().contains("config.json"), e7.getMessage());
    }

    @Test
    void malformedJsonNamesTheFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\",");
        var e = assertThrows(ConfigException.class, () -> ModelConfig.load(dir));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        var missing = assertThrows(ConfigException.class, () -> ModelConfig.load(dir.resolve("nowhere")));
        assertTrue(missing.getMessage().contains("not found"), missing.getMessage());
    }
}
