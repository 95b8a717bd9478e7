package dev.tailor.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory figures of this process, read from {@code /proc/self/status} (Linux). */
public final class ProcessStats {
    private ProcessStats() {
    }

    /** Peak resident set size in MiB ({@code VmHWM}, the peer's {@code ru_maxrss}), or -1 where unavailable. */
    public static double peakRssMib() {
        return statusKib("VmHWM:") / 1024.0;
    }

    /** Current resident set size in MiB ({@code VmRSS}), or -1 where unavailable. */
    public static double rssMib() {
        return statusKib("VmRSS:") / 1024.0;
    }

    private static double statusKib(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return Double.parseDouble(line.substring(key.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1024;
        }
        return -1024;
    }
}
