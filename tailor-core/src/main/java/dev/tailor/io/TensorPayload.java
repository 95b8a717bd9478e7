package dev.tailor.io;

import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/** The bytes of one tensor waiting to be written by {@link SafetensorsWriter}, serialized little-endian. */
sealed interface TensorPayload {
    /** Staging buffer size for array payloads. */
    int CHUNK = 1 << 20;

    /** Number of elements held. */
    long elements();

    /** Appends the payload's bytes to {@code out}. */
    void writeTo(FileChannel out) throws IOException;

    /** float values, stored as F32, F16 or BF16 (rounded to nearest even). */
    record Floats(float[] values, DType dtype) implements TensorPayload {
        @Override
        public long elements() {
            return values.length;
        }

        @Override
        public void writeTo(FileChannel out) throws IOException {
            switch (dtype) {
                case F32 -> writeLittleEndian(MemorySegment.ofArray(values), ValueLayout.JAVA_FLOAT, out);
                case F16, BF16 -> {
                    short[] bits = new short[values.length];
                    for (int i = 0; i < bits.length; i++) {
                        bits[i] = dtype == DType.F16 ? Numerics.floatToF16(values[i]) : Numerics.floatToBf16(values[i]);
                    }
                    writeLittleEndian(MemorySegment.ofArray(bits), ValueLayout.JAVA_SHORT, out);
                }
                default -> throw new IllegalStateException("float payload stored as " + dtype);
            }
        }
    }

    /** 16-bit patterns (F16 or BF16 bits), stored as they are. */
    record Shorts(short[] values) implements TensorPayload {
        @Override
        public long elements() {
            return values.length;
        }

        @Override
        public void writeTo(FileChannel out) throws IOException {
            writeLittleEndian(MemorySegment.ofArray(values), ValueLayout.JAVA_SHORT, out);
        }
    }

    /** 64-bit integers (I64). */
    record Longs(long[] values) implements TensorPayload {
        @Override
        public long elements() {
            return values.length;
        }

        @Override
        public void writeTo(FileChannel out) throws IOException {
            writeLittleEndian(MemorySegment.ofArray(values), ValueLayout.JAVA_LONG, out);
        }
    }

    /** 32-bit integers (I32). */
    record Ints(int[] values) implements TensorPayload {
        @Override
        public long elements() {
            return values.length;
        }

        @Override
        public void writeTo(FileChannel out) throws IOException {
            writeLittleEndian(MemorySegment.ofArray(values), ValueLayout.JAVA_INT, out);
        }
    }

    /** Raw little-endian bytes of any dtype, e.g. a tensor sliced from another file. */
    record Bytes(MemorySegment bytes, int elementSize) implements TensorPayload {
        @Override
        public long elements() {
            return bytes.byteSize() / elementSize;
        }

        @Override
        public void writeTo(FileChannel out) throws IOException {
            for (long off = 0; off < bytes.byteSize(); off += CHUNK) {
                long len = Math.min(CHUNK, bytes.byteSize() - off);
                ByteBuffer buf = ByteBuffer.allocate((int) len);
                MemorySegment.copy(bytes, off, MemorySegment.ofBuffer(buf), 0, len);
                drain(buf.position((int) len), out);
            }
        }
    }

    /**
     * Writes the elements of a heap array segment in little-endian order, through a staging buffer of
     * {@link #CHUNK} bytes (whole elements per chunk).
     */
    private static void writeLittleEndian(MemorySegment src, ValueLayout element, FileChannel out) throws IOException {
        long size = element.byteSize();
        long count = src.byteSize() / size;
        long perChunk = CHUNK / size;
        ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        MemorySegment staging = MemorySegment.ofBuffer(buf);
        ValueLayout littleEndian = element.withByteAlignment(1).withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long first = 0; first < count; first += perChunk) {
            long n = Math.min(perChunk, count - first);
            MemorySegment.copy(src, element, first * size, staging, littleEndian, 0, n);
            drain(buf.position((int) (n * size)), out);
        }
    }

    /** Writes what {@code buf} holds (positions 0 to its position) and clears it. */
    private static void drain(ByteBuffer buf, FileChannel out) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            out.write(buf);
        }
        buf.clear();
    }
}
