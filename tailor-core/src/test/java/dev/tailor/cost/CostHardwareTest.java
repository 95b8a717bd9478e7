package dev.tailor.cost;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.tensor.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hardware profiles as data, a user's file over them, and this machine measured once and cached. */
class CostHardwareTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HardwareProfile UNUSED = null;

    @Test
    void theBuiltInProfilesAreTheDatasheetsFigures() {
        HardwareProfiles profiles = HardwareProfiles.builtIn();
        assertEquals(List.of("A100-40", "A100-80", "H100", "H200", "L4", "T4", "this-machine"), profiles.names());
        HardwareProfile h100 = profiles.get("h100", () -> UNUSED);
        assertEquals(989e12, h100.peakFlops(Precision.BF16));
        assertEquals(67e12, h100.peakFlops(Precision.F32));
        assertEquals(80_000_000_000L, h100.memoryBytes());
        assertEquals(3350e9, h100.bandwidth());
        assertTrue(h100.source().contains("nvidia.com"), h100.source());
        assertEquals(141_000_000_000L, profiles.get("H200", () -> UNUSED).memoryBytes());
        assertEquals(65e12, profiles.get("T4", () -> UNUSED).peakFlops(Precision.F16));
    }

    @Test
    void aUsersFileAddsAndReplacesProfilesAndThisMachineIsMeasuredOnlyWhenChosen() throws Exception {
        var file = JSON.readTree("""
                {"profiles": [
                  {"name": "H100", "bf16_tflops": 989, "fp32_tflops": 67, "memory_gb": 80, "bandwidth_gb_s": 3350,
                   "price_per_hour": 1.85},
                  {"name": "MI300X", "bf16_tflops": 1307, "fp32_tflops": 163, "memory_gb": 192,
                   "bandwidth_gb_s": 5300, "price_per_hour": 2.5, "utilization": 0.35}]}""");
        HardwareProfiles profiles = HardwareProfiles.builtIn().with(Path.of("mine.json"), file);
        AtomicInteger measured = new AtomicInteger();
        HardwareProfile machine = new HardwareProfile("this-machine", "test", 1, 1, 1, 1, 0, 0.5, "test");
        assertEquals(1.85, profiles.get("H100", () -> {
            measured.incrementAndGet();
            return machine;
        }).pricePerHour());
        assertEquals(0.35, profiles.get("mi300x", () -> UNUSED).utilization());
        assertEquals(0, measured.get(), "this machine is measured only when it is chosen");
        assertEquals(machine, profiles.get("this-machine", () -> {
            measured.incrementAndGet();
            return machine;
        }));
        assertEquals(1, measured.get());
        assertEquals(List.of("A100-40", "A100-80", "H100", "H200", "L4", "T4", "MI300X", "this-machine"),
                profiles.names());
    }

    @Test
    void aBadProfileIsRefusedNamingTheFileTheProfileAndTheField() throws Exception {
        var e = assertThrows(IllegalArgumentException.class, () -> HardwareProfiles.builtIn().with(Path.of("mine.json"),
                JSON.readTree("{\"profiles\": [{\"name\": \"X\", \"bf16_tflops\": \"fast\"}]}")));
        assertTrue(e.getMessage().contains("mine.json") && e.getMessage().contains("profiles[0]")
                && e.getMessage().contains("bf16_tflops"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HardwareProfiles.builtIn().with(Path.of("mine.json"),
                JSON.readTree("{\"profiles\": [{\"name\": \"X\", \"bf16_tflops\": 1, \"fp32_tflops\": 1, "
                        + "\"memory_gb\": 0, \"bandwidth_gb_s\": 1}]}")));
        assertTrue(e.getMessage().contains("mine.json") && e.getMessage().contains("memory_gb"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HardwareProfiles.builtIn().with(Path.of("mine.json"),
                JSON.readTree("[1, 2]")));
        assertTrue(e.getMessage().contains("\"profiles\""), e.getMessage());
        var unknown = assertThrows(InvalidOptionException.class, () -> HardwareProfiles.builtIn().get("B300",
                () -> UNUSED));
        assertEquals("hardware", unknown.option());
        assertTrue(unknown.getMessage().contains("A100-40") && unknown.getMessage().contains("this-machine"),
                unknown.getMessage());
    }

    @Test
    void theCacheDirectoryIsTailorCacheElseXdgElseHome() {
        Path home = Path.of("/home/u");
        assertEquals(Path.of("/c"), MachineCalibration.cacheDir(Map.of("TAILOR_CACHE", "/c", "XDG_CACHE_HOME", "/x"),
                home));
        assertEquals(Path.of("/x/tailor"), MachineCalibration.cacheDir(Map.of("TAILOR_CACHE", "",
                "XDG_CACHE_HOME", "/x"), home));
        assertEquals(Path.of("/home/u/.cache/tailor"), MachineCalibration.cacheDir(Map.of(), home));
    }

    /**
     * The measurement (Tailor's kernels over their grid of shapes, once the compiler is done with them: several seconds
     * in a fresh JVM, most of it the compiler's) is cached with its form, the load average and the kernels' times, and
     * read back while the processor and thread count are this machine's; a cache of another processor is measured
     * again.
     */
    @Test
    void thisMachineIsMeasuredWithTailorsKernelsOnceAndThenReadFromTheCache(@TempDir Path cache) throws Exception {
        HardwareProfile measured = MachineCalibration.profile(cache, false);
        assertTrue(measured.fp32Tflops() > 1e-3 && measured.bf16Tflops() > 1e-3 && measured.bandwidth() > 1e8,
                measured.toString());
        assertTrue(measured.description().contains(MachineCalibration.cpuModel()), measured.description());
        KernelTimes k = measured.kernels();
        assertTrue(k.forward().seconds(256, 1024, 1024) > k.forward().seconds(64, 256, 256), "a larger product");
        assertTrue(k.softmax() > 0 && k.normForward() > 0 && k.optimizerValue() > 0, k.toString());
        Path file = cache.resolve("this-machine.json");
        var cached = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(file.toFile());
        assertEquals(MachineCalibration.SCHEMA, cached.path("schema").asInt());
        assertTrue(cached.path("load_average").isNumber(), cached.toString());
        cached.put("gflops", 1234.5);
        Files.writeString(file, cached.toString());
        assertEquals(1.2345, MachineCalibration.profile(cache, false).fp32Tflops(), 1e-12, "read from the cache");
        assertEquals(Parallel.threads(), JSON.readTree(file.toFile()).path("threads").asInt());
    }
}
