package dev.tailor.bench;

import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.bottleneck.BottleneckModel;
import dev.tailor.adapt.compacter.CompacterModel;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.DType;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.RandomInit;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainMethodTest {
    private static final BenchShape SHAPE = new BenchShape(576, 2, 9, 3, 1536, 1000, 16, 1, 4, 4, 1, 0, DType.F32);

    @Test
    void withoutMethodTheLoraFlagChoosesAsBefore() {
        assertEquals(new TrainMethod("full", 0), TrainMethod.of(null, 0));
        assertEquals(new TrainMethod("lora", 16), TrainMethod.of(null, 16));
        assertEquals(new TrainMethod("dora", 8), TrainMethod.of("dora", 0));
        assertEquals(new TrainMethod("lora", 4), TrainMethod.of("lora", 4));
        assertEquals(0, TrainMethod.of("seq_bn", 4).loraRank());
        assertTrue(TrainMethod.of(null, 0).baseTrains());
    }

    @Test
    void unknownMethodsAndNegativeRanksAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainMethod.of("adapter", 0));
        assertTrue(e.getMessage().contains("compacter++"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainMethod.of(null, -1));
    }

    @Test
    void everyMethodBuildsItsAdapterWithDefaults() {
        ModelConfig config = SHAPE.config();
        var weights = RandomInit.weights(config, 0);
        for (String name : TrainMethod.NAMES) {
            Adapter a = TrainMethod.of(name, 0).create(config, weights, 1);
            if (name.equals("full")) {
                assertNull(a);
            } else {
                assertNotNull(a, name);
                assertTrue(a.sites().linear().size() + a.sites().sublayer().size() + a.sites().virtualTokens() > 0,
                        name);
            }
        }
        LoraModel lora = (LoraModel) TrainMethod.of("lora", 4).create(config, weights, 1);
        assertEquals(7 * 2, lora.sites().linear().size());
        BottleneckModel bn = (BottleneckModel) TrainMethod.of("seq_bn", 0).create(config, weights, 1);
        assertEquals(576 / 16, bn.adapters().values().iterator().next().bottleneck());
        CompacterModel compacter = (CompacterModel) TrainMethod.of("compacter", 0).create(config, weights, 1);
        assertEquals(28, compacter.settings().reductionFactor(), "576 / 28 = 20 features, 5 blocks of 4");
    }

    @Test
    void everyMethodTrainsOneStepAtItsFullSequenceLength() {
        BenchShape tiny = new BenchShape(64, 1, 4, 2, 176, 300, 24, 1, 4, 4, 1, 0, DType.F32);
        for (String name : TrainMethod.NAMES) {
            var r = TrainBench.run(tiny, TrainMethod.of(name, 0), false, FreezePlan.fullFineTuning());
            assertEquals(name, r.get("method"));
            assertEquals(1, r.get("steps_measured"), name);
            double loss = (Double) r.get("loss_first");
            assertTrue(loss > 4 && loss < 8, name + ": loss " + loss + " of random tokens is near ln(300) = 5.7");
        }
    }
}
