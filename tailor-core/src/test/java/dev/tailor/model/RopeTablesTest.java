package dev.tailor.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** RoPE tables against values printed by PyTorch (float32, HF's formulas). */
class RopeTablesTest {

    @Test
    void inverseFrequenciesMatchTorchFloat32() {
        double[] inv = RopeTables.inverseFrequencies(64, 10000, null);
        assertEquals(32, inv.length);
        assertEquals(1.0, inv[0]);
        // torch: 1.0 / (10000 ** (torch.arange(0, 64, 2).float() / 64)) -> [5] = 0x3e72d423
        assertEquals(Float.intBitsToFloat(0x3e72d423), (float) inv[5]);
        assertEquals(0.0001333521504420787, inv[31], 1e-12);
    }

    @Test
    void tablesMatchTorchFloat32() {
        RopeTables t = RopeTables.build(RopeTables.inverseFrequencies(64, 10000, null), 4096);
        assertEquals(32, t.half());
        assertEquals(1f, t.cos()[5]);
        assertEquals(0f, t.sin()[5]);
        // torch.cos / torch.sin of torch.outer(torch.arange(4096).float(), inv_freq)
        float cos = Float.intBitsToFloat(0xbd5884db);
        float sin = Float.intBitsToFloat(0xbf7fa45f);
        assertEquals(cos, t.cos()[1000 * 32 + 5], 2 * Math.ulp(cos));
        assertEquals(sin, t.sin()[1000 * 32 + 5], 2 * Math.ulp(sin));
        float cos4095 = Float.intBitsToFloat(0xbd871e6c);
        assertEquals(cos4095, t.cos()[4095 * 32], 2 * Math.ulp(cos4095));
    }

    @Test
    void llama3ScalingStretchesOnlyLowFrequencies() {
        RopeScaling scaling = new RopeScaling("llama3", 8, 1, 4, 8192);
        double[] plain = RopeTables.inverseFrequencies(64, 500000, null);
        double[] scaled = RopeTables.inverseFrequencies(64, 500000, scaling);
        assertEquals(plain[0], scaled[0]);
        assertEquals(plain[31] / 8, scaled[31], 1e-18);
    }

    @Test
    void rejectsOddHeadDim() {
        assertThrows(IllegalArgumentException.class, () -> RopeTables.inverseFrequencies(63, 10000, null));
        assertThrows(IllegalArgumentException.class, () -> new RopeTables(2, 3, new float[6], new float[5]));
    }
}
