package dev.tailor.adapt.lora;

import dev.tailor.model.LlamaWeights;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** lora_dropout in training: masks fixed by the pass, absent from inference, gradients exact for a fixed mask. */
class LoraDropoutTest {
    private final LlamaWeights base = TinyRandomLlama.weights(TinyRandomLlama.QWEN2, 3);
    private final PackedSequence seq = TinyRandomLlama.packed(4);

    private TrainableLlama model(double dropout, boolean dora) {
        LoraConfig s = new LoraConfig(2, 4, dropout, List.of("all-linear"), false, null, dora, LoraBias.NONE,
                LoraInit.KAIMING_UNIFORM);
        LoraModel lora = LoraModel.create(s, TinyRandomLlama.QWEN2, base, 5);
        TrainableLlama m = TrainableLlama.create(TinyRandomLlama.QWEN2, base, name -> false, lora.sites());
        TinyRandomLlama.perturb(m.parameters(), 0.2, 2);
        return m;
    }

    @Test
    void theMaskIsAFunctionOfThePassAndInferenceHasNone() {
        TrainableLlama dropped = model(0.3, false);
        TrainableLlama plain = model(0, false);
        double eval = plain.loss(seq).nllSum();
        assertEquals(eval, dropped.loss(seq).nllSum(), "inference ignores dropout");
        double first = dropped.forwardBackward(seq, 0f, 7).nllSum();
        assertEquals(first, dropped.forwardBackward(seq, 0f, 7).nllSum(), "same pass, same mask");
        assertNotEquals(first, dropped.forwardBackward(seq, 0f, 8).nllSum(), "another pass, another mask");
        assertNotEquals(first, eval, "training applies the mask");
        assertEquals(eval, dropped.loss(seq).nllSum(), "no mask is left behind after training");
        assertEquals(eval, plain.forwardBackward(seq, 0f, 7).nllSum(), "p = 0 trains as inference computes");
    }

    @Test
    void gradientsForAFixedMaskMatchCentralDifferencesAndCheckpointingRecomputesTheSameMask() {
        for (boolean dora : new boolean[] {false, true}) {
            TrainableLlama m = model(0.3, dora);
            m.forwardBackward(seq, 1f, 11);
            Map<String, float[]> grads = new TreeMap<>();
            m.parameters().forEach(p -> grads.put(p.name(), p.grad().clone()));
            m.parameters().forEach(Parameter::zeroGrad);
            m.setGradientCheckpointing(true);
            m.forwardBackward(seq, 1f, 11);
            for (Parameter p : m.parameters()) {
                assertArrayEquals(grads.get(p.name()), p.grad(), p.name() + ": the recompute sees the same mask");
            }
            int checked = 0;
            for (Parameter p : m.parameters()) {
                boolean exact = p.name().contains("lora_magnitude_vector") || !dora;
                if (!p.name().contains("layers.0.") || !exact) {
                    continue;
                }
                for (int i = 0; i < p.size(); i += 5) {
                    float saved = p.data()[i];
                    float eps = 1e-2f;
                    p.data()[i] = saved + eps;
                    double plus = m.forwardBackward(seq, 0f, 11).nllSum();
                    p.data()[i] = saved - eps;
                    double minus = m.forwardBackward(seq, 0f, 11).nllSum();
                    p.data()[i] = saved;
                    double fd = (plus - minus) / (2 * eps);
                    assertEquals(fd, p.grad()[i], 1e-2 * Math.max(0.1, Math.abs(fd)), p.name() + "[" + i + "]");
                    checked++;
                }
            }
            assertTrue(checked > 10, "checked " + checked);
        }
    }
}
