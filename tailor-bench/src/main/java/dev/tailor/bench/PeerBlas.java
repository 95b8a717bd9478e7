package dev.tailor.bench;

import dev.tailor.tensor.Processor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The OpenBLAS kernels the PyTorch peer gets, so that it is measured at its best. OpenBLAS picks its kernels from the
 * CPU's family and model; a model newer than the library (Debian 12's OpenBLAS 0.3.21 on an Intel Xeon of family 6
 * model 207, say) falls back to {@code Prescott}'s SSE3 kernels, which ran {@code X·Wᵀ} at 60 GFLOP/s on two cores
 * where {@code SkylakeX}'s ran 210–300. When the peer's OpenBLAS chose {@code Prescott} on a CPU with AVX-512 or AVX2,
 * the peer runs with {@code OPENBLAS_CORETYPE} naming the kernels those instructions allow, as a user who knew would
 * set it; an {@code OPENBLAS_CORETYPE} already set is left alone.
 */
public final class PeerBlas {
    /** What OpenBLAS prints with {@code OPENBLAS_VERBOSE=2} when it loads: {@code Core: <name>}. */
    private static final Pattern CORE = Pattern.compile("(?m)^Core: (\\S+)");
    private static final List<String> AVX512 = List.of("avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd");

    private PeerBlas() {
    }

    /** The kernels named in OpenBLAS's verbose output, if it says. */
    public static Optional<String> core(String verboseOutput) {
        Matcher m = CORE.matcher(verboseOutput);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /**
     * The {@code OPENBLAS_CORETYPE} to run the peer with: {@code SkylakeX} or {@code Haswell} by the CPU's
     * {@code flags} when OpenBLAS fell back to {@code Prescott}, else none.
     */
    public static Optional<String> override(String chosenCore, Set<String> flags) {
        if (!"Prescott".equals(chosenCore)) {
            return Optional.empty();
        }
        if (flags.containsAll(AVX512)) {
            return Optional.of("SkylakeX");
        }
        if (flags.contains("avx2") && flags.contains("fma")) {
            return Optional.of("Haswell");
        }
        return Optional.empty();
    }

    /**
     * The environment the peer runs with: empty, or {@code OPENBLAS_CORETYPE} when {@code python}'s PyTorch loads an
     * OpenBLAS that fell back to {@code Prescott} on this CPU ({@code notes} hears which kernels and why).
     */
    public static Map<String, String> peerEnvironment(String python, Map<String, String> env,
                                                      Consumer<String> notes) {
        if (env.containsKey("OPENBLAS_CORETYPE")) {
            return Map.of();
        }
        Optional<String> chosen = probe(python);
        if (chosen.isEmpty()) {
            return Map.of();
        }
        String flags = Processor.cpuinfo("flags");
        Optional<String> kernels = override(chosen.get(), flags == null ? Set.of() : Set.of(flags.split("\\s+")));
        kernels.ifPresent(k -> notes.accept("the peer's OpenBLAS does not know this CPU (it chose " + chosen.get()
                + "'s kernels); running the peer with OPENBLAS_CORETYPE=" + k));
        return kernels.map(k -> Map.of("OPENBLAS_CORETYPE", k)).orElse(Map.of());
    }

    /** The kernels OpenBLAS chooses when {@code python} imports PyTorch, or empty when it cannot tell. */
    private static Optional<String> probe(String python) {
        try {
            ProcessBuilder pb = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true);
            pb.environment().put("OPENBLAS_VERBOSE", "2");
            Process p = pb.start();
            // a few lines at most, well within the pipe's buffer: read once the import has finished
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            try (InputStream in = p.getInputStream()) {
                return core(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
