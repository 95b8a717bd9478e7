package dev.tailor.cli;

import java.util.List;
import java.util.Map;

/** Bridges {@code tailor bench matmul} to the kernel benchmark runner. */
final class MatmulResults {
    private MatmulResults() {
    }

    static List<Map<String, Object>> run(Integer threads) {
        throw new IllegalStateException("matmul benchmark runner is not wired in yet");
    }
}
