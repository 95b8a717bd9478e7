package dev.tailor.train.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Reads JSON Lines files: one JSON object per non-blank line; errors name the file and line. */
public final class JsonLines {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonLines() {
    }

    /**
     * One parsed line.
     *
     * @param file   the file it came from
     * @param number 1-based line number
     * @param json   the object
     */
    public record Line(Path file, int number, JsonNode json) {
        /** The string field {@code key}, or a {@link DataFormatException} naming file, line and field. */
        public String requireText(String key) {
            JsonNode n = json.get(key);
            if (n == null || n.isNull()) {
                throw new DataFormatException(file + ":" + number + ": missing field \"" + key + "\"");
            }
            if (!n.isTextual()) {
                throw new DataFormatException(file + ":" + number + ": field \"" + key + "\" must be a string, got "
                        + n.getNodeType().name().toLowerCase());
            }
            return n.asText();
        }
    }

    /** Calls {@code sink} for each object line of {@code file}, in order; a malformed line throws. */
    public static void forEach(Path file, Consumer<Line> sink) {
        forEach(file, sink, e -> {
            throw e;
        });
    }

    /**
     * Calls {@code sink} for each object line of {@code file}, in order, and {@code onBadLine} for each line that
     * is not a JSON object (the exception names the file and line); reading continues unless it throws.
     */
    public static void forEach(Path file, Consumer<Line> sink, Consumer<DataFormatException> onBadLine) {
        requireReadableFile(file);
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            int number = 0;
            while ((text = r.readLine()) != null) {
                number++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    onBadLine.accept(new DataFormatException(file + ":" + number + ": not valid JSON: "
                            + e.getOriginalMessage()));
                    continue;
                }
                if (node == null || !node.isObject()) {
                    onBadLine.accept(new DataFormatException(file + ":" + number + ": expected a JSON object"));
                    continue;
                }
                sink.accept(new Line(file, number, node));
            }
        } catch (CharacterCodingException e) {
            throw notUtf8(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Refuses a path that is not a readable regular file, saying what it is instead.
     *
     * @throws IllegalArgumentException naming the path: missing, a directory, or not a regular file
     */
    public static void requireReadableFile(Path file) {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException(file + " is a directory, not a data file");
        }
        if (!Files.exists(file)) {
            throw new IllegalArgumentException(file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + " is not a regular file");
        }
    }

    /** The error for a file that is not UTF-8 text, naming the first line that is not. */
    static DataFormatException notUtf8(Path file) {
        int line = firstNonUtf8Line(file);
        return new DataFormatException(file + (line > 0 ? ":" + line : "") + ": not UTF-8 text (data files must be "
                + "UTF-8)");
    }

    /** The 1-based number of the first line of {@code file} that is not valid UTF-8, or 0 when it cannot be found. */
    private static int firstNonUtf8Line(Path file) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
        ByteBuffer in = ByteBuffer.allocate(1 << 16);
        CharBuffer out = CharBuffer.allocate(1 << 16);
        int line = 1;
        try (ReadableByteChannel channel = Files.newByteChannel(file)) {
            boolean end = false;
            while (!end) {
                end = channel.read(in) < 0;
                in.flip();
                int start = in.position();
                CoderResult result;
                do {
                    out.clear();
                    result = decoder.decode(in, out, end);
                } while (result.isOverflow());
                for (int i = start; i < in.position(); i++) {
                    if (in.get(i) == '\n') {
                        line++;
                    }
                }
                if (result.isError()) {
                    return line;
                }
                in.compact();
            }
        } catch (IOException e) {
            return 0;
        }
        return 0;
    }

    /** All object lines of {@code file}. */
    public static List<Line> readAll(Path file) {
        List<Line> lines = new ArrayList<>();
        forEach(file, lines::add);
        return lines;
    }
}
