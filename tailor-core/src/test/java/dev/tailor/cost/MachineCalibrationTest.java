package dev.tailor.cost;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.tensor.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * This machine's calibration without measuring it: a figure far below the machine's expected peak is measured again
 * and, when it stays there, used for one run but never cached; the best of several tries is kept; a cache is read back
 * only in its own form, for this processor and thread count.
 */
class MachineCalibrationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static MachineCalibration.Measurement measurement(MachineCalibration.Headline h) {
        return new MachineCalibration.Measurement(MachineCalibration.cpuModel(), Parallel.threads(), h.gflops(),
                h.expectedGflops(), 2e10, 8_000_000_000L, h.loadAverage(), "2026-01-01T00:00:00Z",
                TestKernels.machine());
    }

    @Test
    void aSlowMeasurementIsMadeAgainAndTheFirstPlausibleOneIsCached(@TempDir Path cache) throws Exception {
        Deque<MachineCalibration.Headline> tries = new ArrayDeque<>(List.of(
                new MachineCalibration.Headline(3.4, 300, 7.5), new MachineCalibration.Headline(180, 300, 0.4)));
        List<String> notes = new ArrayList<>();
        HardwareProfile p = MachineCalibration.profile(cache, false, notes::add, tries::pop,
                MachineCalibrationTest::measurement, 0);
        assertTrue(tries.isEmpty(), "measured twice");
        assertEquals(0.18, p.fp32Tflops(), 1e-12);
        assertTrue(notes.stream().anyMatch(n -> n.contains("3.4 GFLOP/s") && n.contains("measuring again")
                && n.contains("load average 7.5")), notes.toString());
        assertTrue(Files.isRegularFile(cache.resolve("this-machine.json")));
        assertEquals(0.4, JSON.readTree(cache.resolve("this-machine.json").toFile()).path("load_average").asDouble());
        assertTrue(p.source().contains("load average 0.4"), p.source());
    }

    @Test
    void aMeasurementThatStaysImplausibleIsUsedOnceAndNotCached(@TempDir Path cache) {
        AtomicInteger attempts = new AtomicInteger();
        double[] rates = {3.4, 5.6, 4.0};
        List<String> notes = new ArrayList<>();
        HardwareProfile p = MachineCalibration.profile(cache, false, notes::add,
                () -> new MachineCalibration.Headline(rates[attempts.getAndIncrement()], 300, 6), 
                MachineCalibrationTest::measurement, 0);
        assertEquals(MachineCalibration.ATTEMPTS, attempts.get());
        assertEquals(0.0056, p.fp32Tflops(), 1e-12, "the best of the tries");
        assertFalse(Files.exists(cache.resolve("this-machine.json")), "not cached");
        assertTrue(notes.getLast().startsWith("warning:") && notes.getLast().contains("not cached")
                && notes.getLast().contains("5.6 GFLOP/s"), notes.toString());
        assertFalse(p.source().contains("cached in"), p.source());
    }

    @Test
    void aPlausibleFigureIsATenthOfTheExpectedPeakOrMore() {
        assertTrue(new MachineCalibration.Headline(30, 300, 0).plausible());
        assertFalse(new MachineCalibration.Headline(29.9, 300, 0).plausible());
        double expected = MachineCalibration.expectedGflops();
        assertTrue(expected >= Parallel.threads() * 4 * 2 * 2 * 0.5, "at least 4 lanes at 0.5 GHz: " + expected);
    }

    @Test
    void theBestOfSeveralTriesIsKept() {
        Deque<Long> spins = new ArrayDeque<>(List.of(6_000_000L, 1_000_000L, 3_000_000L, 1_000_000L, 1_000_000L));
        double best = KernelCalibration.best(() -> {
            long until = System.nanoTime() + (spins.size() > 1 ? spins.pop() : spins.peek());
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
        });
        assertTrue(best >= 1e-3 && best < 2.9e-3, "the fastest try (1 ms), not the first (6 ms), the slow one (3 ms) "
                + "or the mean: " + best);
    }

    @Test
    void aPassesAndABlocksOverheadsAreTheLineThroughTheDepthsResiduals() {
        double[] fit = KernelCalibration.line(new double[] {3e-4, 5e-4, 7e-4, 9e-4});
        assertEquals(1e-4, fit[0], 1e-12);
        assertEquals(2e-4, fit[1], 1e-12);
        fit = KernelCalibration.line(new double[] {4e-4, 2e-4, 5e-4, 3e-4});
        assertEquals(0, fit[1], 1e-4, "noise without a trend: " + fit[1]);
    }

    @Test
    void aCacheIsReadBackOnlyInItsOwnFormForThisProcessorAndThreads(@TempDir Path cache) throws Exception {
        Path file = cache.resolve("this-machine.json");
        MachineCalibration.Measurement m = measurement(new MachineCalibration.Headline(150, 300, 0.2));
        assertTrue(MachineCalibration.write(file, m));
        assertEquals(m, MachineCalibration.read(file).orElseThrow());
        AtomicInteger measured = new AtomicInteger();
        HardwareProfile p = MachineCalibration.profile(cache, false, n -> { }, () -> {
            measured.incrementAndGet();
            return new MachineCalibration.Headline(99, 300, 0);
        }, MachineCalibrationTest::measurement, 0);
        assertEquals(0, measured.get());
        assertEquals(0.15, p.fp32Tflops(), 1e-12);
        assertEquals(m.kernels(), p.kernels());

        ObjectNode old = (ObjectNode) JSON.readTree(file.toFile());
        old.put("schema", 1);
        Files.writeString(file, old.toString());
        assertTrue(MachineCalibration.read(file).isEmpty(), "a cache of another form");
        old.put("schema", MachineCalibration.SCHEMA).put("cpu", "another processor");
        Files.writeString(file, old.toString());
        MachineCalibration.profile(cache, false, n -> { }, () -> {
            measured.incrementAndGet();
            return new MachineCalibration.Headline(99, 300, 0);
        }, MachineCalibrationTest::measurement, 0);
        assertEquals(1, measured.get(), "another processor's cache is measured again");
        assertNull(MachineCalibration.read(cache.resolve("missing.json")).orElse(null));
    }
}
