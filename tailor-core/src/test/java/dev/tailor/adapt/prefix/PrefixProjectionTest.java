package dev.tailor.adapt.prefix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.adapt.AdapterChecks;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prefix tuning with {@code prefix_projection} on the tiny Llama: the projection computes PEFT's MLP, its gradients
 * match central finite differences, and the adapter saves (and loads back) as PEFT saves it: the projected prefix as
 * {@code prompt_embeddings} with {@code prefix_projection} true.
 */
class PrefixProjectionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static LlamaModel base;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() {
        base = LlamaModel.load(Shared.require("models/tiny-llama"));
    }

    @AfterAll
    static void close() {
        if (base != null) {
            base.close();
        }
    }

    private static PrefixTuningModel projected(int virtual, int hidden, long seed) {
        return PrefixTuningModel.create(PrefixTuningConfig.forModel(base.config(), virtual, true, hidden), seed);
    }

    /** Two examples and a padding token, as the other virtual-token tests pack them. */
    private static PackedSequence packed(SplittableRandom rnd) {
        int[] tokens = rnd.ints(10, 3, 32000).toArray();
        int[] labels = tokens.clone();
        labels[0] = CausalLmLoss.IGNORE_INDEX;
        labels[5] = CausalLmLoss.IGNORE_INDEX;
        labels[9] = CausalLmLoss.IGNORE_INDEX;
        return new PackedSequence(tokens, labels, new int[] {0, 1, 2, 3, 4, 0, 1, 2, 3, 0},
                new int[] {0, 0, 0, 0, 0, 5, 5, 5, 5, 9});
    }

    @Test
    void theProjectionIsPeftsMlp() {
        PrefixTuningModel adapter = projected(3, 5, 1);
        PrefixProjection p = adapter.projection();
        int d = base.config().kvDim();
        int width = adapter.config().width();
        assertArrayEquals(new long[] {3, d}, p.embedding().shape(), "embedding [P, token_dim]");
        assertArrayEquals(new long[] {5, d}, p.w1().shape());
        assertArrayEquals(new long[] {width, 5}, p.w2().shape());
        assertEquals(p.parameters(), adapter.parameters(), "the MLP is trained, not the prefix");
        for (int row = 0; row < 3; row++) {
            double[] h = new double[5];
            for (int j = 0; j < 5; j++) {
                double z = p.b1().data()[j];
                for (int c = 0; c < d; c++) {
                    z += (double) p.embedding().data()[row * d + c] * p.w1().data()[j * d + c];
                }
                h[j] = Math.tanh(z);
            }
            for (int o = 0; o < width; o += 7) {
                double y = p.b2().data()[o];
                for (int j = 0; j < 5; j++) {
                    y += h[j] * p.w2().data()[o * 5 + j];
                }
                assertEquals(y, adapter.prefix().data()[row * width + o], 1e-5, "prefix[" + row + ", " + o + "]");
            }
        }
    }

    @Test
    void gradientsThroughTheMlpMatchFiniteDifferences() {
        PrefixTuningModel adapter = projected(3, 6, 11);
        TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), name -> false, adapter.sites());
        assertEquals(adapter.projection().parameters(), model.parameters());
        PackedSequence seq = packed(new SplittableRandom(5));
        model.forwardBackward(seq, 1f);
        SplittableRandom rnd = new SplittableRandom(3);
        for (Parameter p : model.parameters()) {
            double norm = 0;
            for (float g : p.grad()) {
                norm += g * g;
            }
            assertTrue(norm > 1e-8, p.name() + " receives a gradient");
            for (int probe = 0; probe < 6; probe++) {
                int i = rnd.nextInt(p.size());
                double numeric = AdapterChecks.centralDifference(model, seq, p, i);
                assertEquals(numeric, p.grad()[i], 2e-3 + 2e-2 * Math.abs(numeric), p.name() + "[" + i + "]");
            }
        }
    }

    @Test
    void savesTheProjectedPrefixAsPeftDoesAndLoadsItBack() throws Exception {
        PrefixTuningModel adapter = projected(4, 8, 2);
        TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), name -> false, adapter.sites());
        model.forwardBackward(packed(new SplittableRandom(1)), 1f);
        for (Parameter p : model.parameters()) {
            for (int i = 0; i < p.size(); i++) {
                p.data()[i] -= 0.5f * p.grad()[i];
            }
        }
        float[] trained = new float[adapter.prefix().size()];
        adapter.projection().encode(trained);
        adapter.save(dir, "models/tiny-llama", null);

        JsonNode json = JSON.readTree(dir.resolve("adapter_config.json").toFile());
        assertTrue(json.get("prefix_projection").asBoolean());
        assertEquals(8, json.get("encoder_hidden_size").asInt());
        assertEquals(base.config().kvDim(), json.get("token_dim").asInt());
        try (SafetensorsFile st = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(List.of("prompt_embeddings"), List.copyOf(st.names()), "only the projected prefix");
            assertArrayEquals(new long[] {4, adapter.config().width()}, st.info("prompt_embeddings").shape());
        }
        PrefixTuningModel back = assertInstanceOf(PrefixTuningModel.class, AdapterFiles.load(dir));
        assertNull(back.projection(), "served as PEFT's inference-mode encoder: the prefix as saved");
        assertEquals(adapter.config(), back.config());
        assertArrayEquals(trained, back.prefix().data(), "the prefix of the trained MLP");
        assertTrue(back.describe().contains("prefix projection"), back.describe());

        int[] tokens = new SplittableRandom(8).ints(6, 3, 32000).toArray();
        PackedSequence seq = new PackedSequence(tokens, tokens.clone(), new int[] {0, 1, 2, 3, 4, 5}, new int[6]);
        TrainableLlama served = TrainableLlama.create(base.config(), base.weights(), name -> false, back.sites());
        assertArrayEquals(model.logits(seq), served.logits(seq), "the trained and the loaded prefix give one model");
    }

    @Test
    void anEncoderWidthNeedsProjection() {
        assertThrows(IllegalArgumentException.class,
                () -> new PrefixTuningConfig(4, 32, 2, 2, 0, true), "encoder_hidden_size 0");
    }
}
