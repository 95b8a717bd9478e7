package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official {@code openai} npm client (pinned in {@code src/test/node/package-lock.json}, installed with
 * {@code npm ci} into {@code target/node-openai}) runs {@code src/test/node/fine-tuning.mjs} against the server as a
 * tenant: {@code files.create}, {@code files.list}, {@code files.retrieve}, {@code fineTuning.jobs.create},
 * {@code list}, {@code retrieve}, {@code listEvents} and {@code checkpoints.list} page by page, {@code cancel}, then a
 * chat completion on the fine-tuned model, while a worker trains. Skipped without {@code node} and {@code npm}, except
 * under {@code CI=true}, where their absence fails it.
 */
class OpenAiNodeClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OPENAI_VERSION = "7.55.0";

    @TempDir
    Path tmp;

    /** Runs {@code command} in {@code dir}, failing unless it ends with 0 within {@code seconds}; answers its output. */
    private static String run(Path dir, List<String> command, Map<String, String> env, int seconds)
            throws Exception {
        Path log = Files.createTempFile("tailor-node-", ".log");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectOutput(log.toFile()).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
            builder.environment().putAll(env);
            Process p = builder.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                Assertions.fail(command + " did not end within " + seconds + " s: " + Files.readString(log));
            }
            String output = Files.readString(log);
            assertEquals(0, p.exitValue(), command + ": " + output);
            return output;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** Whether {@code tool --version} runs; without it the test is skipped, or fails under {@code CI=true}. */
    private static void require(String tool) {
        boolean found;
        try {
            found = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start().waitFor(30,
                    TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            found = false;
        }
        String why = tool + " is not on the PATH: the openai npm client's test needs node and npm";
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(found, "CI runs need " + tool + ": " + why);
        }
        Assumptions.assumeTrue(found, "skipped: " + why);
    }

    /** The client installed in {@code target/node-openai} with the script beside it. */
    private static Path client() throws Exception {
        Path fixture = Path.of("src/test/node");
        Path dir = Files.createDirectories(Path.of("target/node-openai"));
        for (String name : List.of("package.json", "package-lock.json", "fine-tuning.mjs")) {
            Files.copy(fixture.resolve(name), dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        Path installed = dir.resolve("node_modules/openai/package.json");
        if (!Files.exists(installed)
                || !JSON.readTree(installed.toFile()).path("version").asText().equals(OPENAI_VERSION)) {
            run(dir, List.of("npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"), Map.of(), 300);
        }
        return dir;
    }

    @Test
    void theOpenAiNpmClientUploadsFineTunesAndChatsWithTheResult() throws Exception {
        require("node");
        require("npm");
        Path client = client();
        try (JobsFixture f = JobsFixture.start(tmp, null, JobLimits.defaults())) {
            String key = f.tenant("acme");
            Path training = Files.writeString(tmp.resolve("train.jsonl"), FineTuningApiTest.support(0, 16),
                    StandardCharsets.UTF_8);
            Path validation = Files.writeString(tmp.resolve("valid.jsonl"), FineTuningApiTest.support(100, 4),
                    StandardCharsets.UTF_8);
            Thread worker = Thread.ofPlatform().name("test-worker").start(f.worker::run);
            String output = run(client, List.of("node", "fine-tuning.mjs"), Map.of(
                    "TAILOR_URL", f.url(""), "TAILOR_KEY", key, "TRAINING", training.toString(),
                    "VALIDATION", validation.toString()), 300);
            f.worker.close();
            worker.join();
            JsonNode out = JSON.readTree(output.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
                    .orElseThrow(() -> new AssertionError("no JSON from the script: " + output)));

            assertEquals(2, out.get("uploaded").size());
            assertTrue(out.at("/uploaded/0").asText().matches("file-[0-9a-f]{24}"), out.toString());
            assertEquals(Files.size(training), out.get("training_bytes").asLong());
            List<String> files = new ArrayList<>();
            out.get("files").forEach(n -> files.add(n.asText()));
            assertEquals(List.of(out.at("/uploaded/1").asText(), out.at("/uploaded/0").asText()), files,
                    "newest first");
            assertEquals("train.jsonl", out.get("retrieved_filename").asText());

            String job = out.get("job").asText();
            assertEquals("validating_files", out.get("created_status").asText());
            assertEquals(List.of(job), List.of(out.at("/listed/0").asText()));
            assertEquals("succeeded", out.get("status").asText(), out.toString());
            assertTrue(out.get("error").isNull());
            assertEquals("node@1", out.get("fine_tuned_model").asText());
            assertEquals(f.serverStore.trainedTokens(job), out.get("trained_tokens").asLong());

            JsonNode events = out.get("events");
            assertEquals(f.serverStore.events(job, null, 1000).data().size(), events.size(),
                    "every event, read 5 a page");
            List<Integer> steps = new ArrayList<>();
            events.forEach(e -> {
                if (e.get("type").asText().equals("metrics") && e.get("message").asText().contains("training loss")) {
                    steps.add(e.get("step").asInt());
                }
            });
            assertTrue(steps.size() >= 4, out.toString());
            for (int i = 0; i < steps.size(); i++) {
                assertEquals(steps.size() - i, steps.get(i), "each step once, newest first");
            }
            assertEquals("The job has successfully completed: node@1", events.at("/0/message").asText());
            List<Integer> checkpoints = new ArrayList<>();
            out.get("checkpoints").forEach(c -> checkpoints.add(c.asInt()));
            assertEquals(steps.getFirst(), checkpoints.getFirst(), "the last step's checkpoint first");
            assertEquals(steps.size() / 2 + steps.size() % 2, checkpoints.size(), "every second step's and the last");

            assertEquals("cancelled", out.get("cancelled").asText());
            assertNotEquals(out.get("base_answer").asText(), out.get("tuned_answer").asText(),
                    "the fine-tuned model answers otherwise than the base");
            assertEquals(404, out.get("missing").asInt());
        }
    }
}
