package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tailor demo} end to end at its small size ({@code --quick}: every step, a smaller model, fewer updates): the
 * report's files, every step in it, the server part (a reply per client, the canary, the rollback), and a rerun that
 * reuses every trained step and takes less time.
 */
class DemoCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int demo(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        CommandLine cl = TailorCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void runsEveryStepServesTheClientsAndReusesTheStepsWhenRunAgain() throws Exception {
        Path output = dir.resolve("demo");
        long start = System.nanoTime();
        assertEquals(0, demo("demo", "--quick", "--output", output.toString()), err.toString());
        double first = (System.nanoTime() - start) / 1e9;
        assertTrue(Files.size(output.resolve("report.html")) > 1000);
        String html = Files.readString(output.resolve("report.html"));
        assertTrue(html.contains("Kestrel Kitchen") && html.contains("Canary") && html.contains("Rollback"), html);
        assertTrue(html.contains("The methods compared") && html.contains("compare/report.html"), html);

        JsonNode report = JSON.readTree(output.resolve("report.json").toFile());
        assertEquals("quick", report.at("/demo/size").asText());
        JsonNode steps = report.get("steps");
        for (String name : new String[] {"tokenizer", "base", "domain", "adapters/kestrel", "adapters/northwind",
                "adapters/pebble", "adapters/kestrel-v2", "methods/full", "methods/partial", "methods/ia3",
                "scores", "compare"}) {
            assertTrue(find(steps, name) != null, "step " + name + " in " + steps);
            assertFalse(find(steps, name).get("reused").asBoolean(), name);
        }
        JsonNode compared = report.at("/comparison/methods");
        assertEquals(2, compared.size(), "the quick size compares lora and ia3: " + compared);
        for (JsonNode m : compared) {
            assertTrue(m.get("seconds").asDouble() > 0 && m.get("peak_rss_bytes").asLong() > 0
                    && m.get("trainable_parameters").asLong() > 0 && m.get("predicted_seconds").asDouble() > 0, m.toString());
        }
        assertTrue(Files.readString(output.resolve(report.at("/comparison/report").asText())).contains("<svg"));
        assertTrue(out.toString().contains("| lora |") || out.toString().contains("| lora"), out.toString());
        assertTrue(find(steps, "adapters/kestrel").get("bytes").asLong()
                < find(steps, "methods/full").get("bytes").asLong(), "an adapter is smaller than a model");
        JsonNode scores = report.get("scores");
        assertEquals(9, scores.size(), "base, domain, three clients, the second version, three methods");
        for (JsonNode s : scores) {
            assertEquals(30, s.get("answers").size(), "24 client questions and 6 of the domain: " + s);
            for (String client : new String[] {"kestrel", "northwind", "pebble", "kestrel-v2"}) {
                double a = s.at("/accuracy/" + client).asDouble(-1);
                assertTrue(a >= 0 && a <= 1, s.toString());
            }
        }
        assertEquals(4, report.get("side_by_side").size());
        assertEquals(5, report.at("/side_by_side/0/answers").size(), "base, domain and the three clients");

        JsonNode serving = report.get("serving");
        assertTrue(serving.get("url").asText().startsWith("http://127.0.0.1:"), serving.toString());
        assertEquals(3, serving.get("replies").size());
        assertEquals("kestrel", serving.at("/canary/client").asText());
        assertEquals(1, serving.at("/canary/stable_version").asInt());
        assertEquals(2, serving.at("/canary/canary_version").asInt());
        assertEquals(0.1, serving.at("/canary/weight").asDouble(), 1e-12);
        assertEquals(40, serving.at("/canary/users").asInt());
        assertEquals(2, serving.at("/rollback/promoted_version").asInt());
        assertEquals(1, serving.at("/rollback/prod_after_rollback").asInt());
        assertTrue(hasCall(serving, "POST", "/v1/adapters/kestrel/traffic"), serving.toString());
        assertTrue(hasCall(serving, "POST", "/v1/adapters/kestrel/rollback"), serving.toString());
        assertEquals(3 + 40 + 2, count(serving, "/v1/chat/completions"),
                "a reply per client, a canary request per user, one after the promotion and one after the rollback");
        assertTrue(out.toString().contains("Rolled back: prod is version 1 again"), out.toString());

        start = System.nanoTime();
        assertEquals(0, demo("demo", "--quick", "--output", output.toString()), err.toString());
        double second = (System.nanoTime() - start) / 1e9;
        JsonNode again = JSON.readTree(output.resolve("report.json").toFile());
        for (JsonNode step : again.get("steps")) {
            if (!step.get("name").asText().equals("scores")) {
                assertTrue(step.get("reused").asBoolean(), "reused: " + step);
            }
        }
        assertTrue(second < first, "the rerun took " + second + " s, the first run " + first + " s");
        assertTrue(out.toString().contains("reused"), out.toString());
    }

    @Test
    void anOutputThatIsAFileIsRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("taken"), "x");
        assertEquals(2, demo("demo", "--output", file.toString()));
        assertTrue(err.toString().contains("--output " + file + " is a file"), err.toString());
    }

    private static JsonNode find(JsonNode steps, String name) {
        for (JsonNode s : steps) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        return null;
    }

    private static boolean hasCall(JsonNode serving, String method, String path) {
        for (JsonNode c : serving.get("calls")) {
            if (c.get("method").asText().equals(method) && c.get("path").asText().equals(path)
                    && c.get("status").asInt() == 200) {
                return true;
            }
        }
        return false;
    }

    private static int count(JsonNode serving, String path) {
        int n = 0;
        for (JsonNode c : serving.get("calls")) {
            if (c.get("path").asText().equals(path)) {
                n++;
            }
        }
        return n;
    }
}
