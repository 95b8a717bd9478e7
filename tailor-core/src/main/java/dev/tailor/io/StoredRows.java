package dev.tailor.io;

import java.lang.foreign.MemorySegment;
import java.util.function.IntUnaryOperator;

/**
 * A matrix's bytes as its file stores them, mapped in place, when the file keeps its rows in another order than the
 * model reads them in (GGUF's Q and K rows, {@link TensorSource#storedRows}).
 *
 * @param bytes     the stored bytes, row after row in the file's order
 * @param storedRow which stored row holds row {@code r} of the model's order
 */
public record StoredRows(MemorySegment bytes, IntUnaryOperator storedRow) {
}
