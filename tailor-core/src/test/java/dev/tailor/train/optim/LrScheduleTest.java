package dev.tailor.train.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LrScheduleTest {
    private static final double BASE = 3e-4;

    @Test
    void constantWithWarmup() {
        LrSchedule s = new LrSchedule.ConstantWithWarmup(BASE, 4);
        assertEquals(0.0, s.lr(0));
        assertEquals(BASE * (1 / 4.0), s.lr(1));
        assertEquals(BASE * (3 / 4.0), s.lr(3));
        assertEquals(BASE, s.lr(4));
        assertEquals(BASE, s.lr(1_000_000));
        assertEquals(BASE, new LrSchedule.ConstantWithWarmup(BASE, 0).lr(0));
    }

    @Test
    void linearWithWarmup() {
        LrSchedule s = new LrSchedule.LinearWithWarmup(BASE, 10, 110);
        assertEquals(0.0, s.lr(0));
        assertEquals(BASE * (5 / 10.0), s.lr(5));
        assertEquals(BASE * (9 / 10.0), s.lr(9));
        assertEquals(BASE * ((110 - 10) / 100.0), s.lr(10));
        assertEquals(BASE * ((110 - 60) / 100.0), s.lr(60));
        assertEquals(BASE * (1 / 100.0), s.lr(109));
        assertEquals(0.0, s.lr(110));
        assertEquals(0.0, s.lr(200));
    }

    @Test
    void cosineWithWarmup() {
        LrSchedule s = new LrSchedule.CosineWithWarmup(BASE, 10, 110);
        assertEquals(BASE * (2 / 10.0), s.lr(2));
        assertEquals(BASE, s.lr(10));
        assertEquals(BASE * 0.5, s.lr(60), 1e-18);
        double progress = 25 / 100.0;
        assertEquals(BASE * 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2.0 * progress)), s.lr(35));
        assertEquals(BASE * (0.5 + Math.sqrt(0.5) / 2), s.lr(35), 1e-15);
        assertEquals(0.0, s.lr(110), 1e-20);
        // past training_steps transformers' formula keeps following the cosine, which rises again
        assertEquals(BASE * 0.5 * (1 + Math.cos(Math.PI * 1.1)), s.lr(120));
    }

    @Test
    void cosineWithTwoCyclesReturnsToPeakAtTheMiddle() {
        LrSchedule s = new LrSchedule.CosineWithWarmup(1.0, 0, 100, 1.0);
        assertEquals(1.0, s.lr(0));
        assertEquals(0.0, s.lr(50), 1e-15);
        assertEquals(1.0, s.lr(100), 1e-15);
    }

    @Test
    void jsonRoundTrip() {
        for (LrSchedule s : new LrSchedule[]{new LrSchedule.ConstantWithWarmup(1e-3, 5),
                new LrSchedule.LinearWithWarmup(2e-4, 3, 50), new LrSchedule.CosineWithWarmup(5e-5, 0, 9, 0.5)}) {
            assertEquals(s, LrSchedule.fromJson(s.toJson()));
        }
        var bad = new LrSchedule.LinearWithWarmup(1, 1, 2).toJson().put("type", "step");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.fromJson(bad));
        assertEquals("schedule: unknown type \"step\" (expected constant_with_warmup, linear or cosine)",
                e.getMessage());
    }

    @Test
    void rejectsWarmupLongerThanTraining() {
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule.LinearWithWarmup(1, 11, 10));
    }
}
