package dev.tailor.io;

import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
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
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                if (buf.remaining() < 4) {
                    drain(buf, out);
                }
                switch (dtype) {
                    case F32 -> buf.putFloat(v);
                    case F16 -> buf.putShort(Numerics.floatToF16(v));
                    case BF16 -> buf.putShort(Numerics.floatToBf16(v));
                    default -> throw new IllegalStateException("float payload stored as " + dtype);
                }
            }
            drain(buf, out);
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
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (short v : values) {
                if (buf.remaining() < 2) {
                    drain(buf, out);
                }
                buf.putShort(v);
            }
            drain(buf, out);
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
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : values) {
                if (buf.remaining() < 8) {
                    drain(buf, out);
                }
                buf.putLong(v);
            }
            drain(buf, out);
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
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : values) {
                if (buf.remaining() < 4) {
                    drain(buf, out);
                }
                buf.putInt(v);
            }
            drain(buf, out);
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

    /** Writes what {@code buf} holds (positions 0 to its position) and clears it. */
    private static void drain(ByteBuffer buf, FileChannel out) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            out.write(buf);
        }
        buf.clear();
    }
}
