package dev.tailor.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the kernels ask of the processor beyond its vector width: its vendor, from {@code /proc/cpuinfo}. */
final class Processor {
    /** Whether the processor is Intel's ({@code vendor_id: GenuineIntel}); false where that cannot be read. */
    static final boolean INTEL = "GenuineIntel".equals(vendor());

    private Processor() {
    }

    private static String vendor() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("vendor_id")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            return "";
        }
        return "";
    }
}
