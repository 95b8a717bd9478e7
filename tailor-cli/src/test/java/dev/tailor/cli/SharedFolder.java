package dev.tailor.cli;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the read-only {@code shared/} folder beside the checkout (or named by the system property
 * {@code tailor.shared}), as {@code dev.tailor.Shared} does for tailor-core's tests; tests needing an absent
 * file are skipped with a clear reason.
 */
final class SharedFolder {
    private SharedFolder() {
    }

    /** {@code shared/relative}, skipping the calling test when it does not exist. */
    static Path require(String relative) {
        Path root = root();
        Assumptions.assumeTrue(root != null && Files.exists(root.resolve(relative)),
                "skipped: shared/" + relative + " is not present beside the checkout");
        return root.resolve(relative);
    }

    private static Path root() {
        String prop = System.getProperty("tailor.shared");
        if (prop != null) {
            return Path.of(prop);
        }
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 3 && dir != null; i++, dir = dir.getParent()) {
            Path candidate = dir.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("golden"))) {
                return candidate;
            }
        }
        return null;
    }
}
