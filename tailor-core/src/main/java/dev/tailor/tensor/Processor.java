package dev.tailor.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the kernels, and the cost model's limits, ask of the processor beyond its vector width: its vendor, model and
 * clock, from {@code /proc/cpuinfo}.
 */
public final class Processor {
    /** Whether the processor is Intel's ({@code vendor_id: GenuineIntel}); false where that cannot be read. */
    static final boolean INTEL = "GenuineIntel".equals(cpuinfo("vendor_id"));

    private Processor() {
    }

    /** The value of {@code /proc/cpuinfo}'s first line starting with {@code key}, or null: none, or not readable. */
    public static String cpuinfo(String key) {
        return cpuinfo(Path.of("/proc/cpuinfo"), key);
    }

    /** {@link #cpuinfo(String)} from {@code file}, laid out as {@code /proc/cpuinfo} is ({@code key : value}). */
    static String cpuinfo(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
