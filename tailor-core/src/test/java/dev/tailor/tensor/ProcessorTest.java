package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Processor} reading {@code /proc/cpuinfo}: the first match, stripped; null if absent or unreadable. */
class ProcessorTest {

    @Test
    void theFirstLineOfTheKeyGivesItsValue(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("cpuinfo");
        Files.writeString(file, """
                processor\t: 0
                vendor_id\t: GenuineIntel
                model name\t: Intel(R) Xeon(R) Processor
                cpu MHz\t\t: 2600.000

                processor\t: 1
                vendor_id\t: AuthenticAMD
                """, StandardCharsets.UTF_8);
        assertEquals("GenuineIntel", Processor.cpuinfo(file, "vendor_id"));
        assertEquals("Intel(R) Xeon(R) Processor", Processor.cpuinfo(file, "model name"));
        assertEquals("2600.000", Processor.cpuinfo(file, "cpu MHz"));
        assertNull(Processor.cpuinfo(file, "flags"), "a key the file lacks");
    }

    @Test
    void aMissingOrBinaryFileGivesNull(@TempDir Path dir) throws IOException {
        assertNull(Processor.cpuinfo(dir.resolve("absent"), "vendor_id"));
        Path binary = dir.resolve("binary");
        Files.write(binary, new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF, 0x0A});
        assertNull(Processor.cpuinfo(binary, "vendor_id"), "bytes that are not UTF-8");
    }
}
