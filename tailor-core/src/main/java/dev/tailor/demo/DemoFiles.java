package dev.tailor.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.io.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** The demo's file chores: atomic writes of text and JSON, removing a directory tree, hashing. */
final class DemoFiles {
    static final ObjectMapper JSON = new ObjectMapper();

    private DemoFiles() {
    }

    /** Writes {@code text} to {@code file} atomically (temporary file, then rename). */
    static void writeText(Path file, String text) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(file, ch -> {
            while (buffer.hasRemaining()) {
                ch.write(buffer);
            }
        });
    }

    /** Writes {@code value} as indented JSON to {@code file} atomically. */
    static void writeJson(Path file, Object value) throws IOException {
        writeText(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value) + "\n");
    }

    /** Writes one JSON object per line to {@code file} atomically. */
    static void writeJsonLines(Path file, List<?> values) throws IOException {
        StringBuilder text = new StringBuilder();
        for (Object v : values) {
            text.append(JSON.writeValueAsString(v)).append('\n');
        }
        writeText(file, text.toString());
    }

    /** Removes {@code root} and everything under it; nothing when it does not exist. */
    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + root + ": " + e.getMessage(), e);
        }
    }

    /** The SHA-256 of {@code text}'s UTF-8 bytes, in hex. */
    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256", e);
        }
    }
}
