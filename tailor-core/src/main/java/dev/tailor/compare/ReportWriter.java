package dev.tailor.compare;

import dev.tailor.io.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a comparison's reports: {@code report.json}, {@code report.md} and {@code report.html}, each atomically. */
public final class ReportWriter {
    /** The JSON report's name. */
    public static final String JSON = "report.json";
    /** The Markdown report's name. */
    public static final String MARKDOWN = "report.md";
    /** The HTML report's name. */
    public static final String HTML = "report.html";

    private ReportWriter() {
    }

    /** Writes the three reports of {@code result} into {@code dir} (created if missing). */
    public static void write(ComparisonResult result, Path dir) throws IOException {
        Files.createDirectories(dir);
        write(dir.resolve(JSON), Reports.pretty(ReportJson.of(result)));
        write(dir.resolve(MARKDOWN), MarkdownReport.of(result).getBytes(StandardCharsets.UTF_8));
        write(dir.resolve(HTML), HtmlReport.of(result).getBytes(StandardCharsets.UTF_8));
    }

    /** The table of every method, measured and predicted, as Markdown (what {@code report.md} opens with). */
    public static String table(ComparisonResult result) {
        return MarkdownReport.table(result);
    }

    private static void write(Path file, byte[] bytes) throws IOException {
        AtomicFiles.write(file, ch -> ch.write(ByteBuffer.wrap(bytes)));
    }
}
