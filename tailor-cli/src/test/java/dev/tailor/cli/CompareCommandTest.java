package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tailor compare}: a method trained and reported with its options taken from the train flags, its learning
 * rate per method, the projection, plain progress lines off a terminal, the table printed; bad input refused with
 * status 2 naming the flag, before anything trains.
 */
class CompareCommandTest extends TinyModelCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    final StringWriter out = new StringWriter();

    int run(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        CommandLine cl = cli();
        cl.setOut(new PrintWriter(out, true));
        return cl.execute(args);
    }

    private Path classification() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            lines.add(JSON.writeValueAsString(JSON.createObjectNode().put("text", (i % 2 == 0 ? "a fine film "
                    : "a dull film ") + i).put("label", i % 2 == 0 ? "good" : "bad")));
        }
        return Files.write(dir.resolve("reviews.jsonl"), lines);
    }

    @Test
    void comparesTrainsAndReports() throws Exception {
        Path output = dir.resolve("cmp");
        assertEquals(0, run("compare", "--model", model.toString(), "--data", classification().toString(),
                "--methods", "lora", "--r", "4", "--lr", "lora=2e-3", "--steps", "2", "--seq-len", "32",
                "--batch-size", "2", "--project-hardware", "H100", "--output", output.toString()), err.toString());
        assertTrue(out.toString().contains("| method | trainable |"), out.toString());
        assertTrue(out.toString().contains("| lora | 1792 |"), "r 4 on q_proj and v_proj: " + out);
        assertTrue(err.toString().contains("[1/1] lora: training 2 updates"), err.toString());
        assertTrue(err.toString().contains("lora: step 2/2"), err.toString());
        JsonNode report = JSON.readTree(output.resolve("report.json").toFile());
        JsonNode lora = report.path("methods").path(0);
        assertEquals(2e-3, lora.path("lr").asDouble());
        assertEquals(1792, lora.path("trainable_parameters").asLong());
        assertEquals("this-machine", report.path("machine").path("name").asText());
        assertEquals("H100", report.path("projection").path("hardware").path("name").asText());
        assertEquals(2L * 2 * 32, report.path("projection").path("tokens").asLong(), "the comparison's tokens");
        assertTrue(Files.isRegularFile(output.resolve("report.html")));
        assertTrue(Files.readString(output.resolve("report.md")).contains("| lora | 1792 |"));

        assertEquals(0, run("compare", "--model", model.toString(), "--data", dir.resolve("reviews.jsonl").toString(),
                "--methods", "lora", "--r", "4", "--lr", "lora=2e-3", "--steps", "2", "--seq-len", "32",
                "--batch-size", "2", "--output", output.toString()), err.toString());
        assertTrue(err.toString().contains("lora       (from the run before)"), "resumed: " + err);
        assertFalse(err.toString().contains("training 2 updates"), err.toString());
    }

    @Test
    void badInputIsRefusedWithStatusTwoBeforeAnythingTrains() throws Exception {
        String data = classification().toString();
        Path output = dir.resolve("bad");
        assertEquals(2, run("compare", "--model", model.toString(), "--data", data, "--methods", "lora,nope",
                "--output", output.toString()));
        assertTrue(err.toString().contains("nope"), err.toString());
        assertEquals(2, run("compare", "--model", model.toString(), "--data", data, "--methods", "lora",
                "--steps", "0", "--output", output.toString()));
        assertTrue(err.toString().contains("--steps must be at least 1"), err.toString());
        assertEquals(2, run("compare", "--model", model.toString(), "--data", data, "--methods", "lora",
                "--lr", "lora=fast", "--output", output.toString()));
        assertTrue(err.toString().contains("--lr \"lora=fast\""), err.toString());
        assertEquals(2, run("compare", "--model", model.toString(), "--data", data, "--methods", "lora",
                "--lr", "ia3=1e-3", "--output", output.toString()));
        assertTrue(err.toString().contains("ia3 is not one of --methods"), err.toString());
        assertEquals(2, run("compare", "--model", model.toString(), "--data", data, "--methods", "seq_bn",
                "--reduction-factor", "0", "--output", output.toString()));
        assertTrue(err.toString().contains("--reduction-factor"), err.toString());
        assertEquals(2, run("compare", "--model", model.toString(), "--data", data, "--project-hardware", "H9000",
                "--output", output.toString()));
        assertTrue(err.toString().contains("H9000"), err.toString());
        assertEquals(2, run("compare", "--model", model.toString(), "--data", data, "--no-such-flag",
                "--output", output.toString()));
        assertFalse(Files.exists(output.resolve("runs")), "nothing trained");
    }
}
