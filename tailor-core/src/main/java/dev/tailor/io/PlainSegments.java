package dev.tailor.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Mapped files seen as plain native segments. The kernels' vector loads from segments are compiled for the segment
 * classes they have met in the whole process: with a mapped segment beside native and heap ones they meet three, and
 * every load then pays virtual calls and memory barriers (a decoding step took twice as long). Weights are therefore
 * only ever native segments of one class, or heap arrays.
 */
public final class PlainSegments {
    private PlainSegments() {
    }

    /** {@code mapped} as a plain native segment of the same memory and lifetime (closing {@code arena} ends it). */
    public static MemorySegment plainView(MemorySegment mapped, Arena arena) {
        return MemorySegment.ofAddress(mapped.address()).reinterpret(mapped.byteSize(), arena, null);
    }
}
