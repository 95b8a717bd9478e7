package dev.tailor.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopStringsTest {

    @Test
    void stopStringSplitAcrossTokensNeverLeaks() {
        StopStrings stops = new StopStrings(List.of("</s>"));
        assertEquals(new StopStrings.Result("Hel", false, null), stops.feed("Hel"));
        assertEquals(new StopStrings.Result("lo", false, null), stops.feed("lo<"));
        assertEquals(new StopStrings.Result("", false, null), stops.feed("/"));
        assertEquals(new StopStrings.Result("", true, "</s>"), stops.feed("s>tail"));
        assertTrue(stops.stopped());
        assertThrows(IllegalStateException.class, () -> stops.feed("x"));
    }

    @Test
    void falseStartIsReleasedWhenItStopsMatching() {
        StopStrings stops = new StopStrings(List.of("<|im_end|>"));
        assertEquals("a ", stops.feed("a <|im").emit());
        assertEquals("<|im_start", stops.feed("_start").emit());
        assertEquals("", stops.feed("<").emit());
        assertEquals("<", stops.flush());
        assertFalse(stops.stopped());
    }

    @Test
    void earliestOfSeveralStopStringsWins() {
        StopStrings stops = new StopStrings(List.of("World", "lo W", "\n\n"));
        StopStrings.Result r = stops.feed("Hello World\n\n");
        assertEquals(new StopStrings.Result("Hel", true, "lo W"), r);
    }

    @Test
    void overlappingPrefixesAreTracked() {
        StopStrings stops = new StopStrings(List.of("abc"));
        StringBuilder out = new StringBuilder();
        for (String piece : List.of("x", "a", "a", "b", "a", "b", "c", "z")) {
            StopStrings.Result r = stops.feed(piece);
            out.append(r.emit());
            if (r.stopped()) {
                break;
            }
        }
        assertEquals("xaab", out.toString());
    }

    @Test
    void noStopStringsPassEverythingThrough() {
        StopStrings stops = new StopStrings(List.of());
        assertEquals("any text <", stops.feed("any text <").emit());
        assertEquals("", stops.flush());
        assertThrows(IllegalArgumentException.class, () -> new StopStrings(List.of("")));
    }
}
