package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The three reports of a comparison with set numbers: {@code report.json}'s schema and values, {@code report.md}'s
 * table, and {@code report.html} self-contained with a drawn chart for each figure; the Pareto front.
 */
class ReportWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void theParetoFrontHoldsTheMethodsNoOtherBeatsOnTimeAndQuality() {
        assertEquals(List.of("full", "ia3"), SampleResults.sample(true).paretoFront(),
                "lora is slower than ia3 and less accurate");
        assertEquals(List.of("full", "ia3"), SampleResults.sample(false).paretoFront(), "by eval loss, lower wins");
    }

    @Test
    void reportJsonFollowsItsSchema() throws Exception {
        ComparisonResult result = SampleResults.sample(true);
        ReportWriter.write(result, dir);
        JsonNode root = JSON.readTree(dir.resolve(ReportWriter.JSON).toFile());
        assertEquals("tailor-compare/1", root.path("schema").asText());
        for (String field : List.of("model", "base_parameters", "layers", "hidden_size", "train_data", "eval_data",
                "steps", "seq_len", "batch_size", "seed")) {
            assertTrue(root.path("settings").has(field), field);
        }
        assertEquals("this-machine", root.path("machine").path("name").asText());
        assertEquals(15, root.path("goal_percent").asDouble());
        assertEquals("accuracy", root.path("scored_by").asText());
        assertEquals(List.of("full", "ia3"), strings(root.path("pareto_front")));
        JsonNode methods = root.path("methods");
        assertEquals(3, methods.size());
        for (int i = 0; i < 3; i++) {
            JsonNode m = methods.get(i);
            MethodRun r = result.runs().get(i);
            assertEquals(r.method(), m.path("method").asText());
            assertEquals(r.trainableParameters(), m.path("trainable_parameters").asLong());
            assertEquals(r.peakRssBytes(), m.path("measured").path("peak_rss_bytes").asLong());
            assertEquals(r.trainSeconds(), m.path("measured").path("train_seconds").asDouble());
            assertEquals(r.artifactBytes(), m.path("artifact_bytes").asLong());
            assertEquals(r.evalAccuracy(), m.path("measured").path("eval_accuracy").asDouble());
            assertEquals(r.predicted().peakBytes(), m.path("predicted").path("memory_bytes").path("peak").asLong());
            assertEquals(100 * (r.predicted().seconds() - r.trainSeconds()) / r.trainSeconds(),
                    m.path("error_percent").path("time").asDouble(), 1e-9);
            assertEquals(r.memoryErrorPercent(), m.path("error_percent").path("peak_memory").asDouble(), 1e-9);
            assertEquals(20, m.path("losses").size());
            assertEquals(r.tokensPerSecond(), m.path("tokens_per_second").asDouble(), 1e-9);
            assertTrue(m.path("achieved_utilization").isNumber());
            assertEquals(List.of("full", "ia3").contains(r.method()), m.path("on_pareto_front").asBoolean());
            assertTrue(m.path("notes").isArray());
        }
        assertEquals(0, methods.get(2).path("notes").size(), "ia3: 8.4 s against 8 s (+5%), 284 MiB against "
                + "290 MiB (-2.1%) meet the goal");
        assertEquals(2, methods.get(1).path("notes").size(), "lora: 16 s against 12 s (+33%), both missed");
        assertTrue(methods.get(1).path("notes").get(0).asText().startsWith("time +33.3%"));
        JsonNode projection = root.path("projection");
        assertEquals("H100", projection.path("hardware").path("name").asText());
        assertEquals(3, projection.path("methods").size());
        assertFalse(projection.path("methods").get(0).path("fits").asBoolean());
        assertTrue(root.path("environment").path("jvm_options").isArray());
    }

    @Test
    void reportMdHasTheTableAndTheNotes() throws Exception {
        ReportWriter.write(SampleResults.sample(true), dir);
        String md = Files.readString(dir.resolve(ReportWriter.MARKDOWN));
        assertTrue(md.contains("| method | trainable | time | tokens/s | peak RSS | artifact | eval loss | accuracy |"),
                md);
        assertTrue(md.contains("| lora | 3584 | 12.0 s | 853 | 300.0 MiB | 15.7 KiB | 2.6000 | 0.8000 | 16.0 s "
                + "(+33.3%) |"), md);
        assertTrue(md.contains("- **lora**: time +33.3%"), md);
        assertTrue(md.contains("Pareto front (accuracy against training time): full, ia3."), md);
        assertTrue(md.contains("## Projected: llama-3-8b.json (8.03 B parameters) on H100"), md);
        String withoutAccuracy = MarkdownReport.of(SampleResults.sample(false));
        assertFalse(withoutAccuracy.contains("accuracy |"), "no accuracy column without classification");
    }

    @Test
    void reportHtmlIsSelfContainedAndEveryChartIsDrawn() throws Exception {
        ReportWriter.write(SampleResults.sample(true), dir);
        String html = Files.readString(dir.resolve(ReportWriter.HTML));
        assertFalse(html.contains("<script"), "no script");
        assertFalse(Pattern.compile("(src|href)\\s*=").matcher(html).find(), "no external asset");
        Matcher svg = Pattern.compile("<svg[^>]*data-chart=\"([a-z-]+)\"[^>]*>(.*?)</svg>").matcher(html);
        List<String> charts = new ArrayList<>();
        while (svg.find()) {
            charts.add(svg.group(1));
            assertTrue(Pattern.compile("<(rect|circle|polyline)").matcher(svg.group(2)).find(), svg.group(1));
        }
        assertEquals(List.of("loss-curves", "trainable-parameters", "artifact-bytes", "quality-vs-time",
                "time-prediction", "memory-prediction", "projected-time", "projected-memory"), charts);
        assertTrue(html.contains("<tr data-method=\"lora\">"), "the table");
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
