package dev.tailor.bench;

import dev.tailor.tensor.Processor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeerBlasTest {
    private static final Set<String> SAPPHIRE_RAPIDS = Set.of("fma", "avx2", "avx512f", "avx512dq", "avx512bw",
            "avx512vl", "avx512cd", "avx512_bf16");

    @TempDir
    Path dir;

    @Test
    void readsTheKernelsFromOpenBlasVerboseOutput() {
        assertEquals(Optional.of("Prescott"), PeerBlas.core("Core not found: \nCore: Prescott\n"));
        assertEquals(Optional.of("SkylakeX"), PeerBlas.core("Core: SkylakeX\n"));
        assertEquals(Optional.empty(), PeerBlas.core("Traceback (most recent call last):\nModuleNotFoundError\n"));
    }

    @Test
    void overridesOnlyTheFallbackByWhatTheCpuHas() {
        assertEquals(Optional.of("SkylakeX"), PeerBlas.override("Prescott", SAPPHIRE_RAPIDS));
        assertEquals(Optional.of("Haswell"), PeerBlas.override("Prescott", Set.of("fma", "avx2", "avx512f")));
        assertEquals(Optional.empty(), PeerBlas.override("Prescott", Set.of("sse3", "avx")));
        assertEquals(Optional.empty(), PeerBlas.override("SkylakeX", SAPPHIRE_RAPIDS));
        assertEquals(Optional.empty(), PeerBlas.override("Zen", SAPPHIRE_RAPIDS));
    }

    @Test
    void probesThePeersInterpreterAndLeavesAChosenCoreTypeAlone() throws IOException {
        Path fallback = fakePython("Prescott");
        List<String> notes = new ArrayList<>();
        Map<String, String> env = PeerBlas.peerEnvironment(fallback.toString(), Map.of(), notes::add);
        String flags = Processor.cpuinfo("flags");
        Optional<String> expected = PeerBlas.override("Prescott", flags == null ? Set.of() : Set.of(flags.split(" ")));
        assertEquals(expected.map(k -> Map.of("OPENBLAS_CORETYPE", k)).orElse(Map.of()), env);
        assertEquals(expected.isPresent() ? 1 : 0, notes.size(), notes.toString());
        assertTrue(notes.stream().allMatch(n -> n.contains("Prescott")), notes.toString());

        assertEquals(Map.of(), PeerBlas.peerEnvironment(fakePython("SkylakeX").toString(), Map.of(), notes::add));
        assertEquals(Map.of(), PeerBlas.peerEnvironment(fallback.toString(),
                Map.of("OPENBLAS_CORETYPE", "Haswell"), notes::add), "the user's choice stands");
        assertEquals(Map.of(), PeerBlas.peerEnvironment(dir.resolve("no-python").toString(), Map.of(), notes::add));
    }

    /** An interpreter that prints what OpenBLAS prints when it has chosen {@code core}'s kernels. */
    private Path fakePython(String core) throws IOException {
        Path p = dir.resolve("python-" + core);
        Files.writeString(p, "#!/bin/sh\necho 'Core: " + core + "'\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }
}
