package dev.tailor.cost;

import dev.tailor.train.FreezePlan;
import dev.tailor.train.TrainingMethod;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run priced on {@code this-machine} from its measured kernels: every product at its own shape, the element-wise
 * work, the optimizer and the overheads; a profile without kernels, or an explicit utilisation, prices at the peak.
 */
class CostKernelPricingTest {
    private static final CostBase SMALL = CostConfigs.small();
    private static final List<TrainingMethod> METHODS = List.of(CostConfigs.full(),
            CostConfigs.partial(new FreezePlan(false, new int[] {2, 3}, List.of(), false, false, false)),
            CostConfigs.partial(new FreezePlan(false, null, List.of(), false, false, true)),
            CostConfigs.method("lora", "r", "8"), CostConfigs.method("lora", "r", "16", "target_modules", "all-linear"),
            CostConfigs.method("dora"), CostConfigs.method("ia3"), CostConfigs.method("prompt"),
            CostConfigs.method("seq_bn"), CostConfigs.method("compacter"));

    private static CostSettings settings(KernelTimes kernels) {
        return CostSettings.defaults(TestKernels.profile(kernels)).withShape(256, 4).withTokens(256L * 4 * 10);
    }

    /**
     * With kernels that take c seconds per multiply-add and nothing else (attention aside), every method's time is
     * exactly c/2 times the FLOPs the cost model counts outside attention: the pricing walks the very products the
     * FLOP count adds up, each at its own shape, the loss's head only for the rows that carry one.
     */
    @Test
    void theProductsPricedAreTheProductsCounted() {
        double c = 1e-11;
        for (boolean checkpointing : new boolean[] {false, true}) {
            for (double share : new double[] {1, 0.25}) {
                CostSettings s = settings(TestKernels.perMac(c)).withCheckpointing(checkpointing).withLossShare(share);
                for (TrainingMethod m : METHODS) {
                    CostEstimate e = CostModel.estimate(SMALL, m, s);
                    double flops = (e.flops().perToken() - e.flops().attention()) * s.tokens();
                    assertEquals(c / 2 * flops, e.time().computeSeconds(), 1e-9 * c * flops,
                            m.name() + " checkpointing " + checkpointing + " share " + share);
                    assertEquals(0, e.time().optimizerSeconds(), m.name());
                }
            }
        }
    }

    @Test
    void fewerRowsWithALossMakeTheHeadCheaper() {
        CostSettings s = settings(TestKernels.machine());
        for (TrainingMethod m : METHODS) {
            double text = CostModel.estimate(SMALL, m, s).time().seconds();
            double answers = CostModel.estimate(SMALL, m, s.withLossShare(0.05)).time().seconds();
            assertTrue(answers < text, m.name() + ": " + answers + " against " + text);
        }
    }

    @Test
    void theTimeGrowsWithTheSequenceTheTokensAndTheModel() {
        KernelTimes k = TestKernels.machine();
        for (TrainingMethod m : METHODS) {
            double previous = 0;
            for (int seq : new int[] {16, 64, 128, 512, 1024}) {
                double perToken = CostModel.estimate(SMALL, m, settings(k).withShape(seq, 4).withTokens(seq * 400L))
                        .time().computeSeconds() / (seq * 400.0);
                double perSequence = perToken * seq;
                assertTrue(perSequence > previous, m.name() + " seq " + seq);
                previous = perSequence;
            }
            CostSettings s = settings(k);
            double once = CostModel.estimate(SMALL, m, s).time().seconds();
            double twice = CostModel.estimate(SMALL, m, s.withTokens(2 * s.tokens())).time().seconds();
            assertEquals(2 * once, twice, 1e-9 * once, m.name() + ": twice the tokens, twice the time");
        }
        double small = CostModel.estimate(SMALL, CostConfigs.full(), settings(k)).time().seconds();
        double large = CostModel.estimate(CostConfigs.llama7b(), CostConfigs.full(), settings(k)).time().seconds();
        assertTrue(large > 100 * small, large + " against " + small);
    }

    @Test
    void theOptimizerAndTheOverheadsArePricedPerUpdateAndPerPass() {
        KernelTimes k = TestKernels.perMac(1e-30);
        KernelTimes withOverheads = new KernelTimes(k.forward(), k.inputGrad(), k.weightGrad(), k.attention(), 0, 0,
                0, 0, 0, 0, 2e-9, 1e-6, 3e-3, 1e-3);
        CostSettings s = settings(withOverheads);
        CostEstimate full = CostModel.estimate(SMALL, CostConfigs.full(), s);
        int layers = SMALL.config().numLayers();
        assertEquals(10 * (2e-9 * full.trainableParameters() + 1e-6 * (3 + 9 * layers)), full.time().optimizerSeconds(),
                1e-12, "10 updates: per value and per tensor (embeddings, head, final norm, 9 a block)");
        assertEquals(40 * (3e-3 + layers * 1e-3), full.time().computeSeconds(), 1e-9,
                "40 sequences: a pass's overhead and one per trained block");
        CostEstimate upper = CostModel.estimate(SMALL, METHODS.get(1), s);
        assertEquals(40 * (3e-3 + 2 * 1e-3), upper.time().computeSeconds(), 1e-9, "two blocks trained");
    }

    @Test
    void aFrozenHeadsChunksAndAnAdaptersPiecesArePricedBeyondTheirProducts() {
        KernelTimes k = TestKernels.perMac(1e-30);
        KernelTimes chunks = new KernelTimes(k.forward(), k.inputGrad(), k.weightGrad(), k.attention(), 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 1e-4, 1e-5, Map.of("lora", new KernelTimes.AdapterOverhead(2e-4, 3e-5)));
        CostSettings s = settings(chunks).withLossShare(0.0625);
        TrainingMethod lora = CostConfigs.method("lora");
        double loraSeconds = CostModel.estimate(SMALL, lora, s).time().computeSeconds();
        int pieces = ((TrainingMethod.AdapterTraining) lora).method().shape("lora",
                ((TrainingMethod.AdapterTraining) lora).options(), SMALL.config(), "small").pieces().size();
        assertEquals(8, pieces, "q and v of 4 blocks");
        assertEquals(40 * (8 * (1e-4 + 16 * 1e-5) + 2e-4 + pieces * 3e-5), loraSeconds, 1e-9,
                "40 passes: 8 chunks of 1024 rows of the 8000-token head, 16 rows with a loss in each; the adapter");
        double ia3Seconds = CostModel.estimate(SMALL, CostConfigs.method("ia3"), s).time().computeSeconds();
        assertEquals(40 * 8 * (1e-4 + 16 * 1e-5), ia3Seconds, 1e-9, "no overhead measured for ia3");
        double fullSeconds = CostModel.estimate(SMALL, CostConfigs.full(), s).time().computeSeconds();
        assertEquals(0, fullSeconds, 1e-9, "a trainable head is one product, not chunks");
    }

    @Test
    void aProfileWithoutKernelsOrAGivenUtilisationPricesAtThePeak() {
        CostSettings kernels = settings(TestKernels.machine());
        assertTrue(kernels.kernelPriced());
        CostSettings given = new CostSettings(256, 4, 1, kernels.tokens(), null, Precision.F32, Precision.F32, false,
                kernels.optimizer(), null, kernels.hardware(), null, 0.5, 1);
        assertTrue(!given.kernelPriced());
        CostEstimate e = CostModel.estimate(SMALL, CostConfigs.full(), given);
        assertEquals(e.flops().perToken() * kernels.tokens() / (0.1e12 * 0.5), e.time().computeSeconds(),
                1e-9 * e.time().computeSeconds());
        assertTrue(!CostSettings.defaults(CostConfigs.h100()).kernelPriced(), "a datasheet profile has no kernels");
    }
}
