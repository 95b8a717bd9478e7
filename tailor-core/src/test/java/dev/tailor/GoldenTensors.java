package dev.tailor;

import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorInfo;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Reads the integer tensors of golden files (ids, labels). */
public final class GoldenTensors {
    private GoldenTensors() {
    }

    /** A 2-D I64 tensor as int rows. */
    public static int[][] longs(SafetensorsFile f, String name) {
        TensorInfo info = f.info(name);
        int rows = (int) info.shape()[0];
        int cols = (int) info.shape()[1];
        var seg = f.data(name);
        int[][] out = new int[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r][c] = (int) seg.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                        (long) r * cols + c);
            }
        }
        return out;
    }
}
