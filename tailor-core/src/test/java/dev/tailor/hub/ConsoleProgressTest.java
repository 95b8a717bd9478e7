package dev.tailor.hub;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsoleProgressTest {
    @Test
    void plainLinesWhenNotATerminal() {
        StringWriter s = new StringWriter();
        ConsoleProgress p = new ConsoleProgress(new PrintWriter(s), false);
        p.start("model.safetensors", 4_000_000, 1_000_000);
        p.advance(3_000_000);
        p.done("model.safetensors");
        p.cached("config.json");
        String[] lines = s.toString().split("\n");
        assertEquals(3, lines.length);
        assertEquals("resuming model.safetensors at 1.0 MB of 4.0 MB", lines[0]);
        assertTrue(lines[1].matches("model\\.safetensors: 4\\.0 MB in \\d+\\.\\d s \\(\\d+\\.\\d MB/s\\)"), lines[1]);
        assertEquals("config.json: already in the cache", lines[2]);
        assertFalse(s.toString().contains("\r"));
    }

    @Test
    void oneRedrawnLineOnATerminal() {
        StringWriter s = new StringWriter();
        ConsoleProgress p = new ConsoleProgress(new PrintWriter(s), true);
        p.start("w.bin", 2_000_000, 0);
        p.advance(1_000_000);
        p.advance(1_000_000);
        p.done("w.bin");
        String text = s.toString();
        assertTrue(text.startsWith("\rw.bin  50% 1.0 MB / 2.0 MB "), text);
        assertTrue(text.contains("\rw.bin 100% 2.0 MB / 2.0 MB "), text);
        assertEquals(2, text.split("\r").length - 1, "the second advance came too soon to redraw");
        assertTrue(text.endsWith("MB/s\u001b[K" + System.lineSeparator()), text);
    }
}
