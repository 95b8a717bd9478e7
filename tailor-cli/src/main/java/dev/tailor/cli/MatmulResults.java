package dev.tailor.cli;

import dev.tailor.bench.MatmulBench;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Parallel;

import java.util.List;
import java.util.Map;

/** Bridges {@code tailor bench matmul} to the kernel benchmark runner (1 s warm-up, 2 s measured per shape). */
final class MatmulResults {
    private MatmulResults() {
    }

    /** Every shape in F32 and BF16, or in F32 and {@code dtype} when it is another type. */
    static List<Map<String, Object>> run(Integer threads, DType dtype) {
        List<DType> dtypes = dtype == DType.F32 ? List.of(DType.F32, DType.BF16) : List.of(DType.F32, dtype);
        return MatmulBench.run(threads != null ? threads : Parallel.threads(), 1.0, 2.0, dtypes);
    }
}
