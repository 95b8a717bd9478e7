package dev.tailor.cost;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.model.ModelConfig;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.optim.OptimizerType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cost model's formulas on Llama-2-7B's shape, checked against the terms written out by hand: FLOPs per token of
 * full, partial and adapter training, where the backward stops, what checkpointing trades, the optimizer's state,
 * time, and the tenants' storage and serving. Relative tolerance 1e-9 (the sums are in doubles).
 */
class CostModelTest {
    private static final CostBase BASE = CostConfigs.llama7b();
    private static final ModelConfig C = BASE.config();
    private static final double D = C.hiddenSize();
    private static final double V = C.vocabSize();
    private static final double L = C.numLayers();
    /** A block's linear weights. */
    private static final double W = 4 * D * D + 3 * D * C.intermediateSize();
    private static final double QKV = 3 * D * D;
    private static final int N = 512;
    private static final CostSettings SETTINGS = CostSettings.defaults(CostConfigs.h100()).withShape(N, 4);

    /** Causal query-key pairs of {@code m} rows with {@code prefix} keys in front, times 4·qD: attention's forward. */
    private static double attention(double m, double prefix) {
        return 4 * D * (m * (m + 1) / 2 + m * prefix);
    }

    @Test
    void fullFineTuningCostsSixFlopsPerWeightPerTokenPlusAttention() {
        CostEstimate.Flops f = CostModel.estimate(BASE, CostConfigs.full(), SETTINGS).flops();
        double perLayer = 2 * N * W + attention(N, 0);
        close(L * perLayer / N + 2 * D * V, f.forward(), "forward");
        close(L * (2 * N * W + 2.5 * attention(N, 0)) / N + 2 * D * V, f.inputGradients(), "input gradients");
        close(L * 2 * N * W / N + 2 * D * V, f.weightGradients(), "weight gradients");
        close(6 * (L * W + D * V) + 3.5 * L * attention(N, 0) / N, f.perToken(), "Kaplan's 6N plus attention");
        assertEquals(0, f.recompute());
        assertEquals(0, f.adapter());
    }

    @Test
    void nothingBelowTheLowestTrainedBlockIsComputedInTheBackward() {
        FreezePlan top = new FreezePlan(false, new int[] {30, 31}, List.of("mlp.*"), false, false, false);
        CostEstimate cost = CostModel.estimate(BASE, CostConfigs.partial(top), SETTINGS);
        assertEquals(30, cost.stopLayer());
        CostEstimate.Flops f = cost.flops();
        double lowest = 2 * N * (W - QKV) + 2.5 * attention(N, 0);
        double above = 2 * N * W + 2.5 * attention(N, 0);
        close((lowest + above) / N + 2 * D * V, f.inputGradients(), "input gradients of blocks 30 and 31 only");
        close(2 * 2 * 3 * D * C.intermediateSize(), f.weightGradients(), "the two blocks' MLP weights");
    }

    @Test
    void loraTrainsNoBaseWeightAndItsBackwardStopsAtItsLowestLayer() {
        CostEstimate cost = CostModel.estimate(BASE, CostConfigs.method("lora", "r", "8", "target_modules",
                "q_proj,v_proj", "layers_to_transform", "20,25"), SETTINGS);
        assertEquals(20, cost.stopLayer());
        assertEquals(0, cost.flops().weightGradients());
        assertEquals(2L * 2 * 8 * (4096 + 4096), cost.trainableParameters());
        close(2 * 2 * (2 * 8 * 8192.0 + 4 * 8 * 8192.0), cost.flops().adapter(), "the pairs' forward and backward");
        double lowest = 2 * N * (W - QKV) + 2.5 * attention(N, 0);
        double above = 11 * (2 * N * W + 2.5 * attention(N, 0));
        close((lowest + above) / N + 2 * D * V, cost.flops().inputGradients(), "input gradients of blocks 20 to 31");
    }

    @Test
    void promptTuningNeedsInputGradientsDownToTheEmbeddingsAndPrefixTuningIntoTheFirstBlock() {
        int p = 20;
        CostEstimate prompt = CostModel.estimate(BASE, CostConfigs.method("prompt", "num_virtual_tokens", "20"),
                SETTINGS);
        CostEstimate prefix = CostModel.estimate(BASE, CostConfigs.method("prefix", "num_virtual_tokens", "20"),
                SETTINGS);
        assertEquals(0, prompt.stopLayer());
        assertEquals(0, prefix.stopLayer());
        double m = N + p;
        close(L * (2 * m * W + attention(m, 0)) / N + 2 * D * V, prompt.flops().forward(),
                "prompt tuning's forward: every block runs the virtual rows");
        close(L * (2 * m * W + 2.5 * attention(m, 0)) / N + 2 * D * V, prompt.flops().inputGradients(),
                "prompt tuning's input gradients, the first block's q, k and v included");
        close(((L - 1) * (2 * N * W + 2.5 * attention(N, p)) + 2 * N * (W - QKV) + 2.5 * attention(N, p)) / N
                + 2 * D * V, prefix.flops().inputGradients(),
                "prefix tuning's: the first block needs none of its input");
        assertEquals(0, prompt.flops().weightGradients());
    }

    @Test
    void gradientCheckpointingKeepsBlockInputsAndRecomputesTheTrainedBlocks() {
        CostEstimate plain = CostModel.estimate(BASE, CostConfigs.full(), SETTINGS);
        CostEstimate checkpointed = CostModel.estimate(BASE, CostConfigs.full(), SETTINGS.withCheckpointing(true));
        assertEquals(plain.memory().withoutCheckpointing(), checkpointed.memory().withoutCheckpointing());
        assertEquals(checkpointed.memory().withCheckpointing(), checkpointed.memory().activations());
        long perBlock = N * (4 * 4096L + 2 * 4096 + 2 * 4096 + 3 * 11008 + 2);
        assertEquals(Float.BYTES * 32 * (perBlock - N * 4096L),
                plain.memory().activations() - checkpointed.memory().activations(),
                "each of the 32 trained blocks keeps only its input; the one scratch block serves the recomputation");
        close(L * (2 * N * W + attention(N, 0)) / N, checkpointed.flops().recompute(), "a second forward of every block");
    }

    @Test
    void adamWKeepsTwoFloat32MomentsAndSgdOne() {
        CostEstimate adam = CostModel.estimate(BASE, CostConfigs.full(), SETTINGS);
        CostSettings sgd = new CostSettings(N, 4, 1, 1000, null, Precision.BF16, Precision.F32, false,
                OptimizerType.SGD, null, CostConfigs.h100(), null, null, 1);
        CostEstimate momentum = CostModel.estimate(BASE, CostConfigs.full(), sgd);
        assertEquals(8 * adam.trainableParameters(), adam.memory().optimizer());
        assertEquals(4 * momentum.trainableParameters(), momentum.memory().optimizer());
        assertEquals(4 * adam.trainableParameters(), adam.memory().gradients());
        assertEquals(2 * momentum.trainableParameters(), momentum.memory().gradients());
    }

    @Test
    void timeIsTheFlopsAtTheUtilisedPeakPlusTheOptimizersTrafficAndMoneyItsHours() {
        CostSettings settings = new CostSettings(N, 4, 2, 10_000_000, null, Precision.F32, Precision.BF16, false,
                OptimizerType.ADAMW, null, CostConfigs.h100(), 2.0, 0.5, 1);
        CostEstimate cost = CostModel.estimate(BASE, CostConfigs.full(), settings);
        close(cost.flops().perToken() * 1e7 / (989e12 * 0.5), cost.time().computeSeconds(), "compute");
        long updates = (10_000_000 + 4095) / 4096;
        assertEquals(updates, cost.time().updates());
        close(updates * cost.trainableParameters() * (3 * 4.0 + 16) / 3350e9, cost.time().optimizerSeconds(),
                "AdamW's traffic per update: weights read and written, gradients read, two moments read and written");
        close(cost.time().seconds() / 3600 * 2.0, cost.time().money(), "money");
    }

    @Test
    void tenantsStoreWholeModelsOrOneBaseAndTheirAdapters() {
        CostSettings ten = SETTINGS.withTenants(10).withPrecisions(Precision.BF16, Precision.F32, Precision.F32);
        CostEstimate full = CostModel.estimate(BASE, CostConfigs.full(), ten);
        CostEstimate lora = CostModel.estimate(BASE, CostConfigs.method("lora"), ten);
        assertEquals(10 * full.artifactBytes(), full.storage().total());
        assertEquals(full.artifactBytes(), full.modelBytes());
        assertEquals(full.modelBytes() + 10 * lora.artifactBytes(), lora.storage().total(),
                "the base's checkpoint (saved as a fine-tuned model would be) and ten adapters");
        long vectors = (2 * 32 + 1) * 4096L;
        long servedBase = 2 * (BaseTensors.parameters(C) - vectors) + 4 * vectors;
        assertEquals(10 * servedBase, full.serving().total(), "ten BF16 models, their norms widened to float32");
        assertEquals(servedBase + 10 * 4 * lora.trainableParameters(), lora.serving().total());
        assertEquals(2L * 32 * 4096 * 4 * N, lora.kvCacheBytes());
    }

    @Test
    void settingsThatCannotBeUsedNameTheirOption() {
        HardwareProfile h100 = CostConfigs.h100();
        assertEquals("seq_len", assertThrows(InvalidOptionException.class, () -> new CostSettings(0, 4, 1, 1, null,
                Precision.F32, Precision.F32, false, OptimizerType.ADAMW, null, h100, null, null, 1)).option());
        assertEquals("utilization", assertThrows(InvalidOptionException.class, () -> new CostSettings(8, 4, 1, 1,
                null, Precision.F32, Precision.F32, false, OptimizerType.ADAMW, null, h100, null, 1.5, 1)).option());
        assertEquals("trainable_dtype", assertThrows(InvalidOptionException.class, () -> new CostSettings(8, 4, 1, 1,
                null, Precision.Q4_0, Precision.F32, false, OptimizerType.ADAMW, null, h100, null, null, 1)).option());
        assertEquals("tenants", assertThrows(InvalidOptionException.class, () -> SETTINGS.withTenants(0)).option());
        var e = assertThrows(InvalidOptionException.class, () -> Precision.parse("base_dtype", "Q3_K", false));
        assertTrue(e.getMessage().contains("F32, BF16, F16, Q8_0, Q4_0, NF4"), e.getMessage());
        assertEquals("r", assertThrows(InvalidOptionException.class,
                () -> CostModel.estimate(BASE, CostConfigs.method("lora", "r", "0"), SETTINGS)).option());
    }

    private static void close(double expected, double actual, String what) {
        assertTrue(Math.abs(actual - expected) <= 1e-9 * Math.abs(expected), what + ": expected " + expected
                + ", got " + actual);
    }
}
