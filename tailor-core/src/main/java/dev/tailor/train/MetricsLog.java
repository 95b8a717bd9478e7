package dev.tailor.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** {@code metrics.jsonl}: one JSON object per logged update or evaluation, each with its {@code step}. */
public final class MetricsLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;

    /** A log at {@code file}. */
    public MetricsLog(Path file) {
        this.file = file;
    }

    /** Appends one line and flushes it. */
    public void append(ObjectNode line) {
        try {
            Files.writeString(file, JSON.writeValueAsString(line) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write metrics: " + e.getMessage(), e);
        }
    }

    /**
     * Keeps only the lines of steps up to {@code step} (a resumed run rewrites what came after its checkpoint);
     * 0 empties the log. The file is replaced atomically.
     */
    public void truncateAfter(long step) {
        try {
            List<String> kept = new ArrayList<>();
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    JsonNode node = line.isBlank() ? null : JSON.readTree(line);
                    if (node != null && node.path("step").asLong(Long.MAX_VALUE) <= step) {
                        kept.add(line);
                    }
                }
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, kept, StandardCharsets.UTF_8);
            dev.tailor.io.AtomicFiles.moveReplacing(tmp, file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot rewrite metrics: " + e.getMessage(), e);
        }
    }
}
