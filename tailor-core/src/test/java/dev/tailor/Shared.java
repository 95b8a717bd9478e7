package dev.tailor;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the read-only {@code shared/} folder of reference models, goldens and data that sits beside
 * the project checkout (or is named by the system property {@code tailor.shared}). Tests that need it
 * call {@link #require(String)}, which skips them with a clear reason when it is absent.
 */
public final class Shared {
    private Shared() {
    }

    /** The shared folder, or null if there is none. */
    public static Path root() {
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

    /** {@code shared/relative}, skipping the calling test when it does not exist. */
    public static Path require(String relative) {
        Path root = root();
        Assumptions.assumeTrue(root != null && Files.exists(root.resolve(relative)),
                "skipped: shared/" + relative + " is not present beside the checkout");
        return root.resolve(relative);
    }
}
