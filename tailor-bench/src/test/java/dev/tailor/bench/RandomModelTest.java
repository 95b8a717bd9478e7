package dev.tailor.bench;

import dev.tailor.model.KvCache;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.NamedTensors;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmarks' random model written as GGUF and mapped back is the model held in memory. */
class RandomModelTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16", "Q8_0", "Q4_0"})
    void theMappedModelHoldsTheSameWeights(DType dtype) {
        BenchShape shape = new BenchShape(64, 2, 4, 2, 96, 128, 16, 1, 4, 5, 3, 2, dtype);
        LlamaModel held = RandomModel.build(shape, 7);
        try (LlamaModel mapped = RandomModel.mapped(shape, 7, tmp.resolve("m.gguf"))) {
            assertEquals(shape.config().numLayers(), mapped.config().numLayers());
            assertEquals(shape.config().vocabSize(), mapped.config().vocabSize());
            assertEquals(shape.config().rmsNormEps(), mapped.config().rmsNormEps(), 1e-12);
            Map<String, Object> want = NamedTensors.of(held.weights());
            Map<String, Object> got = NamedTensors.of(mapped.weights());
            assertEquals(want.keySet(), got.keySet());
            for (Map.Entry<String, Object> e : want.entrySet()) {
                Object g = got.get(e.getKey());
                if (e.getValue() instanceof WeightMatrix w) {
                    WeightMatrix m = assertInstanceOf(WeightMatrix.class, g, e.getKey());
                    assertEquals(w.dtype(), m.dtype(), e.getKey());
                    float[] a = new float[w.cols()];
                    float[] b = new float[w.cols()];
                    for (int r = 0; r < w.rows(); r++) {
                        w.copyRow(r, a, 0);
                        m.copyRow(r, b, 0);
                        assertArrayEquals(a, b, e.getKey() + " row " + r);
                    }
                } else {
                    assertArrayEquals((float[]) e.getValue(), (float[]) g, e.getKey());
                }
            }
            if (dtype == DType.F16 || dtype == DType.Q4_0) {
                assertArrayEquals(decode(held), decode(mapped), "logits after a prompt and two tokens");
            } else if (dtype != DType.Q8_0) {
                // F32 and BF16 mapped from a file multiply from their regrouped copies (one chain of fused
                // multiply-adds per output), held in memory in the streaming order: the same to rounding (Q8_0 mapped
                // from a file multiplies in integers)
                float[] heldLogits = decode(held);
                float[] mappedLogits = decode(mapped);
                for (int i = 0; i < heldLogits.length; i++) {
                    assertEquals(heldLogits[i], mappedLogits[i], 1e-4 * (1 + Math.abs(heldLogits[i])), "logit " + i);
                }
            }
        }
    }

    @Test
    void aTypeItCannotDrawIsRefusedAndLeavesNoFile() {
        BenchShape shape = new BenchShape(64, 1, 4, 2, 96, 128, 16, 1, 4, 5, 3, 2, DType.Q4_K);
        Path file = tmp.resolve("k.gguf");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RandomModel.writeGguf(shape, 7, file));
        assertTrue(e.getMessage().contains("Q4_K"), e.getMessage());
        assertFalse(Files.exists(file), "no half-written file");
    }

    private static float[] decode(LlamaModel model) {
        KvCache cache = model.newCache(8);
        float[] logits = model.prefill(cache, new int[] {3, 17, 42});
        logits = model.decode(cache, 5);
        return model.decode(cache, 99);
    }
}
