package dev.tailor.cli;

import dev.tailor.bench.MatmulBench;
import dev.tailor.tensor.Parallel;

import java.util.List;
import java.util.Map;

/** Bridges {@code tailor bench matmul} to the kernel benchmark runner (1 s warm-up, 2 s measured per shape). */
final class MatmulResults {
    private MatmulResults() {
    }

    static List<Map<String, Object>> run(Integer threads) {
        return MatmulBench.run(threads != null ? threads : Parallel.threads(), 1.0, 2.0);
    }
}
