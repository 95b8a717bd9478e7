package dev.tailor.cost;

import dev.tailor.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The limits' loops do the work they are credited with (the FMA chains' value, every float read, copied and
 * triad-combined), a short measurement is plausible (no timing is asserted: positive, finite, all threads at least
 * about one thread's rate, one thread below what any processor can do), and the cache is read back.
 */
class MachineLimitsTest {

    @Test
    void theFmaChainsConvergeToTheirFixedPointInEveryLaneAndChain() {
        float lanesTimesChains = PeakKernels.CHAINS * FloatVector.SPECIES_PREFERRED.length();
        assertEquals(lanesTimesChains, PeakKernels.fma(20_000), lanesTimesChains * 1e-3);
        assertEquals(Parallel.threads() * lanesTimesChains, PeakKernels.fmaAllThreads(20_000),
                Parallel.threads() * lanesTimesChains * 1e-3);
        assertEquals(2.0 * PeakKernels.CHAINS * FloatVector.SPECIES_PREFERRED.length() * 1000,
                PeakKernels.fmaFlops(1000));
    }

    @Test
    void theMemoryLoopsReadCopyAndCombineEveryFloat() {
        int blocks = 3 * 1001;
        int floats = blocks * PeakKernels.BLOCK / Float.BYTES;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate((long) floats * Float.BYTES, 64);
            for (int i = 0; i < floats; i++) {
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, i % 7);
            }
            double expected = 0;
            for (int i = 0; i < floats; i++) {
                expected += i % 7;
            }
            assertEquals(expected, PeakKernels.read(seg, 0, seg.byteSize()), expected * 1e-5);
            assertEquals(expected, PeakKernels.readAllThreads(seg), expected * 1e-5);

            PeakKernels.triadAllThreads(seg);
            int third = floats / 3;
            for (int i = 0; i < third; i++) {
                float b = (i + third) % 7;
                float c = (i + 2 * third) % 7;
                assertEquals(b + 0.5f * c, seg.getAtIndex(ValueLayout.JAVA_FLOAT, i), "triad at " + i);
            }
            PeakKernels.copyAllThreads(seg);
            int half = floats / 2;
            for (int i = 0; i < half; i++) {
                assertEquals(seg.getAtIndex(ValueLayout.JAVA_FLOAT, i),
                        seg.getAtIndex(ValueLayout.JAVA_FLOAT, half + i), "copy at " + i);
            }
        }
    }

    @Test
    void aShortMeasurementIsPlausible() {
        MachineLimits m = MachineLimits.measure(48L << 20, note -> { });
        double[] rates = {m.fmaGflopsOne(), m.fmaGflopsAll(), m.readGbOne(), m.readGbAll(), m.copyGbAll(),
            m.triadGbAll()};
        for (double r : rates) {
            assertTrue(r > 0 && Double.isFinite(r), m.toString());
        }
        assertTrue(m.fmaGflopsAll() >= 0.8 * m.fmaGflopsOne(), m.toString());
        double anyProcessor = FloatVector.SPECIES_PREFERRED.length() * 2.0 * 4 * 6.0;
        assertTrue(m.fmaGflopsOne() < anyProcessor, "more than 4 FMA units at 6 GHz: " + m);
        assertEquals(Parallel.threads(), m.threads());
        assertEquals(MachineCalibration.cpuModel(), m.cpu());
        assertEquals(48L << 20, m.bufferBytes(), 6L * PeakKernels.BLOCK);
    }

    @Test
    void cachedLimitsAreUsedWithoutMeasuringAndAskedForTheirThreadCount(@TempDir Path cache) {
        MachineLimits cached = new MachineLimits(MachineCalibration.cpuModel(), Parallel.threads(), 1, 41.2, 80.5,
                99.0, 12.3, 20.1, 18.4, 19.9, 1L << 30, 0.5, "2026-01-01T00:00:00Z");
        assertTrue(cached.write(MachineLimits.cacheFile(cache, Parallel.threads())));
        List<String> notes = new ArrayList<>();
        MachineLimits loaded = MachineLimits.load(cache, notes::add);
        assertEquals(cached, loaded);
        assertTrue(notes.isEmpty(), notes.toString());
        assertEquals(80.5, loaded.fmaGflops(Parallel.threads()).orElseThrow());
        assertEquals(20.1, loaded.readGbPerS(Parallel.threads()).orElseThrow());
        assertEquals(12.3, loaded.readGbPerS(1).orElseThrow());
        assertTrue(loaded.fmaGflops(Parallel.threads() + 1).isEmpty());
    }

    @Test
    void allThreadsNearOneThreadsPeakOnSeveralCoresIsDisturbed() {
        assertTrue(limits(2, 2, 100, 110).disturbed());
        assertFalse(limits(2, 2, 100, 190).disturbed());
        assertFalse(limits(2, 1, 100, 100).disturbed(), "two threads on one core share its units");
        assertTrue(limits(8, 4, 100, 250).disturbed());
        assertFalse(limits(1, 1, 100, 98).disturbed());
    }

    private static MachineLimits limits(int threads, int cores, double one, double all) {
        return new MachineLimits("cpu", threads, cores, one, all, 0, 10, 20, 20, 20, 1L << 30, Double.NaN, "");
    }

    @Test
    void aCacheOfAnotherFormIsNotRead(@TempDir Path cache) throws Exception {
        Path file = MachineLimits.cacheFile(cache, 2);
        java.nio.file.Files.writeString(file, "{\"schema\": 0, \"cpu\": \"x\"}");
        assertTrue(MachineLimits.read(file).isEmpty());
    }
}
