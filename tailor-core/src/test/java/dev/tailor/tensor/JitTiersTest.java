package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernels compile at C1's tier 3. A kernel C1 could not compile there (out of virtual registers) was a trap: a
 * JVM whose C2 queue was long compiled it at tier 2 first, asked for tier 3 from there, failed, and kept it in tier
 * 2's code, every vector boxed, for the rest of the process (a product at 4 GFLOP/s instead of 270). Runs
 * {@link JitTiersProbe} in a JVM that stops at tier 3, compiles in the foreground at low thresholds and prints its
 * compilations, and checks that C1 skipped no method of the project's and compiled every panel tile.
 */
class JitTiersTest {
    /** The panel tiles: all but the one-row F32 tile ran C1 out of virtual registers while they stored masked. */
    private static final List<String> TILES = List.of("group8x2", "bf16Group8x2", "bf16Group1x8", "group4x4",
            "bf16Group4x4", "group2x4", "bf16Group2x4", "group1x4", "partialPanel");

    @TempDir
    Path dir;

    @Test
    void everyKernelCompilesAtTierThree() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-XX:UseAVX") || arg.startsWith("-XX:MaxVectorSize")) {
                cmd.add(arg);
            }
        }
        // tier 3 at most, compiled in the foreground, the interpreter asking the policy at every call and loop pass
        cmd.addAll(List.of("-XX:TieredStopAtLevel=3", "-Xbatch", "-XX:Tier0InvokeNotifyFreqLog=0",
                "-XX:Tier0BackedgeNotifyFreqLog=0", "-XX:Tier3InvocationThreshold=2",
                "-XX:Tier3MinInvocationThreshold=1", "-XX:Tier3CompileThreshold=10", "-XX:Tier3BackEdgeThreshold=100", "-XX:+PrintCompilation",
                "-cp", System.getProperty("java.class.path"), JitTiersProbe.class.getName()));
        Path out = dir.resolve("compilations.txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the probe did not finish in 5 minutes");
        List<String> lines = Files.readAllLines(out);
        assertEquals(0, p.exitValue(), () -> "the probe failed:\n" + String.join("\n", tail(lines)));
        for (String line : lines) {
            boolean skipped = line.contains("COMPILE SKIPPED") && !line.contains("concurrent class loading");
            assertFalse(skipped && line.contains("dev.tailor."), () -> "C1 could not compile: " + line.strip());
        }
        for (String tile : TILES) {
            String method = "dev.tailor.tensor.PanelGemv::" + tile + " (";
            assertTrue(lines.stream().anyMatch(line -> line.contains(method) && compiledAtTierThree(line)),
                    () -> "the probe never had " + tile + " compiled at tier 3");
        }
    }

    /** A line of {@code -XX:+PrintCompilation}: "time id [flags] level method (bytes)", level 3, not a failure. */
    private static boolean compiledAtTierThree(String line) {
        String head = line.substring(0, line.indexOf("dev.tailor.")).strip();
        return head.endsWith(" 3") && !line.contains("SKIPPED") && !line.contains("made not entrant");
    }

    private static List<String> tail(List<String> lines) {
        return lines.subList(Math.max(0, lines.size() - 40), lines.size());
    }
}
