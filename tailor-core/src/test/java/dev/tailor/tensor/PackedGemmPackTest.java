package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link PackedGemm#pack} against a naive element-by-element transpose, bit for bit: ragged row groups, k
 * blocks that start off a vector boundary and end in a tail, every weight type, on the heap and in native
 * memory at an odd byte offset (as a tensor inside a memory-mapped safetensors file); BF16 in native memory also in
 * blocks of 2L columns ({@code kb} 48 and 50), whose pairs of elements are transposed as one lane.
 */
class PackedGemmPackTest {
    private static final int NR = PackedGemm.NR;

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (boolean heap : new boolean[] {true, false}) {
                for (int rows : new int[] {1, 15, 16, 17, 31, 32, 33, 70}) {
                    for (int kb : new int[] {1, 15, 16, 17, 48, 50}) {
                        cases.add(Arguments.of(dtype, heap, rows, kb));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} heap={1} rows={2} kb={3}")
    @MethodSource("shapes")
    void packIsTheZeroPaddedTransposeInPanels(DType dtype, boolean heap, int rows, int kb) {
        SplittableRandom rnd = new SplittableRandom(97L * rows + kb);
        int j0 = NR;
        int k0 = 3;
        int n = j0 + rows + 5;
        int k = k0 + kb + 2;
        float[] values = MatMulTest.randoms(rnd, n * k);
        values[(j0 + rows - 1) * k + k0] = Float.NEGATIVE_INFINITY;
        values[j0 * k + k0 + kb - 1] = -0f;
        // a signalling NaN (in F32 and BF16 alike), whose bits a transpose must move as they are
        values[j0 * k + k0 + kb / 2] = Float.intBitsToFloat(0x7F81_0000);
        byte[] bytes = MatMulTest.encode(values, dtype);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data;
            if (heap) {
                data = MemorySegment.ofArray(bytes);
            } else {
                data = arena.allocate(bytes.length + 13L, 64).asSlice(13, bytes.length);
                data.copyFrom(MemorySegment.ofArray(bytes));
            }
            WeightMatrix w = new WeightMatrix(data, dtype, n, k);
            int j1 = j0 + rows;
            int panels = PackedGemm.ceilDiv(rows, NR);
            float[] dst = new float[panels * kb * NR + 7];
            Arrays.fill(dst, Float.NaN);
            PackedGemm.pack(w, j0, j1, k0, kb, dst);
            for (int j = j0; j < j0 + panels * NR; j++) {
                for (int p = 0; p < kb; p++) {
                    int d = (j - j0) / NR * kb * NR + p * NR + (j - j0) % NR;
                    float expected = j < j1 ? w.get(j, k0 + p) : 0f;
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(dst[d]),
                            "w[" + j + ", " + (k0 + p) + "] at dst[" + d + "]");
                }
            }
            for (int d = panels * kb * NR; d < dst.length; d++) {
                assertEquals(Float.NaN, dst[d], "dst[" + d + "] past the panels was written");
            }
        }
    }
}
