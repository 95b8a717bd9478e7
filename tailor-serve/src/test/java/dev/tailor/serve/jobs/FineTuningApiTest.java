package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fine-tuning through the API on the tiny Llama: files checked on upload (a bad line named, nothing stored) and kept
 * per tenant; jobs refused with the field at fault, limited per tenant, cancelled; a job trained by a worker,
 * its steps and checkpoints told as they happen, its adapter registered as the tenant's next version, evaluated,
 * served at once and rolled out as a canary or promoted by the registry's rule, then rolled back.
 */
class FineTuningApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_TOKENS = 20_000;
    private static JobsFixture f;
    private static String acme;
    private static String globex;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        f = JobsFixture.start(tmp, null, new JobLimits(64 * 1024, 2, MAX_TOKENS));
        acme = f.tenant("acme");
        globex = f.tenant("globex");
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    /** Support conversations as prompt/completion lines: {@code n} of them, from {@code from}. */
    static String support(int from, int n) throws Exception {
        StringBuilder out = new StringBuilder();
        for (int i = from; i < from + n; i++) {
            out.append(JSON.writeValueAsString(Map.of("prompt", "Customer: my order " + i + " is late.\nAgent:",
                    "completion", " Sorry! Acme ships order " + i + " today."))).append('\n');
        }
        return out.toString();
    }

    private static String job(String key, String body) throws Exception {
        return f.ok("POST", "/v1/fine_tuning/jobs", body, key).get("id").asText();
    }

    /** Every event of job {@code id}, oldest first, read page by page. */
    private static List<JsonNode> events(String id, String key) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        String after = null;
        while (true) {
            JsonNode page = f.ok("GET", "/v1/fine_tuning/jobs/" + id + "/events?limit=7"
                    + (after == null ? "" : "&after=" + after), null, key);
            page.get("data").forEach(events::add);
            if (!page.get("has_more").asBoolean()) {
                return events.reversed();
            }
            after = events.getLast().get("id").asText();
        }
    }

    /** The files in the state directory's {@code files/}, in order. */
    private static List<Path> stored() throws Exception {
        try (Stream<Path> files = Files.list(f.state.resolve("files"))) {
            return files.sorted().toList();
        }
    }

    private static String error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).at("/error/message").asText();
    }

    private static String param(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).at("/error/param").asText();
    }

    @Test
    void aJobIsTrainedRegisteredEvaluatedServedRolledOutAndRolledBack() throws Exception {
        String training = f.file("support.jsonl", support(0, 16), acme);
        String validation = f.file("support-valid.jsonl", support(100, 4), acme);
        String spec = "\"model\": \"tiny\", \"training_file\": \"" + training + "\", \"validation_file\": \""
                + validation + "\", \"suffix\": \"support\", \"seed\": 7, \"training\": {\"seq_len\": 64, "
                + "\"checkpoint_every\": 2}";
        JsonNode created = f.ok("POST", "/v1/fine_tuning/jobs", "{" + spec + ", \"method\": {\"type\": \"supervised\", "
                + "\"supervised\": {\"hyperparameters\": {\"n_epochs\": 2, \"batch_size\": 2, "
                + "\"learning_rate_multiplier\": 50}}}}", acme);
        String id = created.get("id").asText();
        assertEquals("validating_files", created.get("status").asText());
        assertEquals("fine_tuning.job", created.get("object").asText());
        assertEquals(2, created.at("/method/supervised/hyperparameters/n_epochs").asInt());
        assertEquals(0.01, created.at("/training/learning_rate").asDouble(), 1e-12);
        assertEquals("lora", created.at("/adapter/method").asText());
        assertEquals("all-linear", created.at("/adapter/target_modules").asText(), "LoRA on all linear layers");
        assertEquals("queued", f.validated(id, acme).get("status").asText());

        assertTrue(f.worker.runOne());
        JsonNode done = f.ok("GET", "/v1/fine_tuning/jobs/" + id, null, acme);
        assertEquals("succeeded", done.get("status").asText(), done.toString());
        assertEquals("support@1", done.get("fine_tuned_model").asText());
        assertTrue(done.get("error").isNull());
        assertTrue(done.get("finished_at").asLong() >= done.get("created_at").asLong());

        List<JsonNode> events = events(id, acme);
        List<JsonNode> steps = events.stream().filter(e -> e.get("type").asText().equals("metrics")
                && e.at("/data/train_loss").isNumber()).toList();
        long total = steps.getFirst().at("/data/total_steps").asLong();
        assertEquals(total, steps.size(), "one metrics event per step");
        long tokens = 0;
        for (int i = 0; i < steps.size(); i++) {
            assertEquals(i + 1, steps.get(i).at("/data/step").asLong());
            tokens += steps.get(i).at("/data/tokens").asLong();
        }
        assertEquals(tokens, done.get("trained_tokens").asLong());
        assertTrue(events.stream().anyMatch(e -> e.at("/data/valid_loss").isNumber()), "validation losses told");
        List<String> messages = events.stream().filter(e -> e.get("type").asText().equals("message"))
                .map(e -> e.get("message").asText()).toList();
        assertEquals("Created fine-tuning job " + id, messages.getFirst());
        assertTrue(messages.contains("Registered the adapter as support@1, now its prod version"), messages.toString());
        assertEquals("The job has successfully completed: support@1", messages.getLast());

        JsonNode checkpoints = f.ok("GET", "/v1/fine_tuning/jobs/" + id + "/checkpoints", null, acme);
        List<Long> saved = new ArrayList<>();
        checkpoints.get("data").forEach(c -> saved.add(c.get("step_number").asLong()));
        List<Long> expected = new ArrayList<>();
        for (long s = total; s >= 1; s--) {
            if (s % 2 == 0 || s == total) {
                expected.add(s);
            }
        }
        assertEquals(expected, saved, "every checkpoint, newest first");
        assertEquals("support@1", checkpoints.at("/data/0/fine_tuned_model_checkpoint").asText());
        assertTrue(checkpoints.at("/data/0/metrics/valid_loss").isNumber(), checkpoints.toString());
        assertFalse(Files.exists(f.state.resolve("jobs").resolve(id)), "the job's checkpoints are gone once shipped");

        String base = f.chat("tiny", "my order 5 is late", acme);
        String tuned = f.chat("support@1", "my order 5 is late", acme);
        assertNotEquals(base, tuned, "the tenant's model answers otherwise than the base");
        assertEquals(tuned, f.chat("support", "my order 5 is late", acme));
        JsonNode adapter = f.ok("GET", "/v1/adapters/support", null, acme);
        assertEquals(1, adapter.at("/aliases/prod").asInt());
        double lossOne = adapter.at("/evaluations/0/loss").asDouble();
        assertEquals(404, f.send("GET", "/v1/fine_tuning/jobs/" + id, null, globex).statusCode());
        assertEquals(404, f.send("POST", "/v1/chat/completions", "{\"model\": \"support\", \"messages\": "
                + "[{\"role\": \"user\", \"content\": \"hi\"}]}", globex).statusCode());

        String canary = job(acme, "{" + spec + ", \"hyperparameters\": {\"n_epochs\": 4, \"batch_size\": 2, "
                + "\"learning_rate_multiplier\": 100}, \"rollout\": {\"canary\": 0.25}}");
        f.validated(canary, acme);
        assertTrue(f.worker.runOne());
        assertEquals("support@2", f.ok("GET", "/v1/fine_tuning/jobs/" + canary, null, acme)
                .get("fine_tuned_model").asText());
        adapter = f.ok("GET", "/v1/adapters/support", null, acme);
        assertEquals(1, adapter.at("/aliases/prod").asInt(), "a canary leaves prod");
        assertEquals(2, adapter.get("evaluations").size(), "version 1's evaluation is reused: " + adapter);
        assertTrue(adapter.at("/evaluations/1/loss").asDouble() < lossOne, "version 2 is better: " + adapter);
        Map<String, Double> split = new TreeMap<>(Map.of("1", 0.75, "2", 0.25));
        assertEquals(JSON.valueToTree(split), adapter.at("/traffic/versions"));
        String two = f.chat("support@2", "my order 5 is late", acme);
        assertNotEquals(tuned, two);
        int toTwo = 0;
        for (int u = 0; u < 24; u++) {
            JsonNode r = f.ok("POST", "/v1/chat/completions", "{\"model\": \"support\", \"user\": \"u" + u + "\", "
                    + "\"messages\": [{\"role\": \"user\", \"content\": \"my order 5 is late\"}], \"max_tokens\": 8, "
                    + "\"temperature\": 0}", acme);
            String text = r.at("/choices/0/message/content").asText();
            assertTrue(text.equals(tuned) || text.equals(two), text);
            toTwo += text.equals(two) ? 1 : 0;
        }
        assertTrue(toTwo > 0 && toTwo < 24, "the canary serves some users, prod the others: " + toTwo + " of 24");

        f.ok("DELETE", "/v1/adapters/acme:support/traffic", null, JobsFixture.ADMIN);  // the admin names a tenant's adapter by its key
        String promoted = job(acme, "{" + spec.replace("\"seed\": 7", "\"seed\": 8")
                + ", \"hyperparameters\": {\"n_epochs\": 4, \"batch_size\": 2, "
                + "\"learning_rate_multiplier\": 100}}");
        f.validated(promoted, acme);
        assertTrue(f.worker.runOne());
        assertEquals("succeeded", f.ok("GET", "/v1/fine_tuning/jobs/" + promoted, null, acme).get("status").asText());
        adapter = f.ok("GET", "/v1/adapters/support", null, acme);
        assertEquals(3, adapter.at("/aliases/prod").asInt(), "no worse than prod, so promoted: " + adapter);
        assertTrue(events(promoted, acme).stream().anyMatch(e -> e.get("message").asText()
                .equals("Promoted support@3 to prod (it was support@1)")));
        assertEquals(1, f.ok("POST", "/v1/adapters/support/rollback", null, acme).get("version").asInt());
        assertEquals(tuned, f.chat("support", "my order 5 is late", acme), "rolled back to version 1");
    }

    @Test
    void filesAreCheckedWhenUploadedAndKeptPerTenant() throws Exception {
        String hooli = f.tenant("hooli");
        List<Path> before = stored();
        HttpResponse<String> bad = f.upload("broken.jsonl", support(0, 2) + "{\"prompt\": \"x\"\n" + support(2, 1),
                "fine-tune", hooli);
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(error(bad).contains("broken.jsonl:3:"), "the bad line named: " + bad.body());
        HttpResponse<String> missing = f.upload("fields.jsonl", support(0, 1) + "{\"prompt\": \"no completion\"}\n",
                "fine-tune", hooli);
        assertEquals(400, missing.statusCode());
        assertTrue(error(missing).contains("fields.jsonl:2:"), missing.body());
        assertEquals(before, stored(), "nothing stored of a refused file");
        try (Stream<Path> scratch = Files.list(f.state.resolve("files/tmp"))) {
            assertEquals(0, scratch.count());
        }
        assertEquals(0, f.ok("GET", "/v1/files", null, hooli).get("data").size());
        HttpResponse<String> purpose = f.upload("a.jsonl", support(0, 1), "batch", hooli);
        assertEquals(400, purpose.statusCode());
        assertEquals("purpose", param(purpose));
        HttpResponse<String> large = f.upload("big.jsonl", support(0, 1200), "fine-tune", hooli);
        assertEquals(400, large.statusCode());
        assertTrue(error(large).contains("larger than the 65536 bytes a tenant may upload"), large.body());

        HttpResponse<String> good = f.upload("ok.jsonl", support(0, 3), "fine-tune", hooli);
        assertEquals(200, good.statusCode(), good.body());
        JsonNode file = JSON.readTree(good.body());
        String id = file.get("id").asText();
        assertTrue(id.matches("file-[0-9a-f]{24}"), id);
        assertEquals("file", file.get("object").asText());
        assertEquals(support(0, 3).length(), file.get("bytes").asLong());
        assertEquals("fine-tune", file.get("purpose").asText());
        assertEquals("processed", file.get("status").asText());
        assertEquals("completion", file.get("format").asText());
        assertEquals(3, file.get("examples").asInt());
        assertTrue(file.get("tokens").asLong() > 30, file.toString());
        assertEquals(id, f.ok("GET", "/v1/files/" + id, null, hooli).get("id").asText());
        assertEquals(404, f.send("GET", "/v1/files/" + id, null, acme).statusCode(), "another tenant's file");
        assertEquals(200, f.send("GET", "/v1/files/" + id, null, JobsFixture.ADMIN).statusCode());
        assertFalse(f.ok("GET", "/v1/files", null, acme).toString().contains(id));

        JsonNode deleted = f.ok("DELETE", "/v1/files/" + id, null, hooli);
        assertTrue(deleted.get("deleted").asBoolean());
        assertEquals(404, f.send("GET", "/v1/files/" + id, null, hooli).statusCode());
        assertFalse(Files.exists(FileStore.path(f.state, id)));
    }

    @Test
    void badJobRequestsAreRefusedNamingTheField() throws Exception {
        String training = f.file("t.jsonl", support(0, 4), globex);
        String classes = f.file("c.jsonl", "{\"text\": \"buy now\", \"label\": \"spam\"}\n"
                + "{\"text\": \"see you at lunch\", \"label\": \"ham\"}\n", globex);
        String other = f.file("o.jsonl", "{\"text\": \"free money\", \"label\": \"junk\"}\n", globex);
        String acmes = f.file("a.jsonl", support(0, 2), acme);
        String ok = "\"model\": \"tiny\", \"training_file\": \"" + training + "\"";
        Map<String, String> refused = new java.util.LinkedHashMap<>();
        refused.put("{" + ok + ", \"n_epoch\": 2}", "n_epoch");
        refused.put("{\"model\": \"gpt-4o\", \"training_file\": \"" + training + "\"}", "model");
        refused.put("{\"model\": \"tiny\"}", "training_file");
        refused.put("{\"model\": \"tiny\", \"training_file\": \"" + acmes + "\"}", "training_file");
        refused.put("{" + ok + ", \"validation_file\": \"" + classes + "\"}", "validation_file");
        refused.put("{\"model\": \"tiny\", \"training_file\": \"" + classes + "\", \"validation_file\": \"" + other
                + "\"}", "validation_file");
        refused.put("{" + ok + ", \"method\": {\"type\": \"dpo\"}}", "method.type");
        refused.put("{" + ok + ", \"hyperparameters\": {\"n_epochs\": 0}}", "n_epochs");
        refused.put("{" + ok + ", \"hyperparameters\": {\"learning_rate_multiplier\": \"fast\"}}",
                "learning_rate_multiplier");
        refused.put("{" + ok + ", \"adapter\": {\"method\": \"lora\", \"rank\": 8}}", "adapter.rank");
        refused.put("{" + ok + ", \"adapter\": {\"method\": \"lora\", \"r\": \"eight\"}}", "adapter.r");
        refused.put("{" + ok + ", \"adapter\": {\"method\": \"full\"}}", "adapter.method");
        refused.put("{" + ok + ", \"rollout\": {\"canary\": 1.5}}", "rollout.canary");
        refused.put("{" + ok + ", \"training\": {\"seq_len\": 100000}}", "training.seq_len");
        refused.put("{" + ok + ", \"suffix\": \"a+b\"}", "suffix");
        refused.put("{" + ok + ", \"suffix\": \"tiny\"}", "suffix");
        for (Map.Entry<String, String> e : refused.entrySet()) {
            HttpResponse<String> r = f.send("POST", "/v1/fine_tuning/jobs", e.getKey(), globex);
            assertEquals(400, r.statusCode(), e.getKey() + " -> " + r.body());
            assertEquals(e.getValue(), param(r), e.getKey() + " -> " + r.body());
        }
        assertEquals(0, f.ok("GET", "/v1/fine_tuning/jobs", null, globex).get("data").size(), "none recorded");
    }

    @Test
    void aTenantsJobsAreLimitedAndCancelledAndAFailedTrainingSaysWhy() throws Exception {
        String initech = f.tenant("initech");
        String training = f.file("t.jsonl", support(0, 8), initech);
        String spec = "{\"model\": \"tiny\", \"training_file\": \"" + training + "\", \"suffix\": \"limits\", "
                + "\"training\": {\"seq_len\": 64}, \"hyperparameters\": {\"n_epochs\": 1, \"batch_size\": 2}";
        String first = job(initech, spec + ", \"adapter\": {\"target_modules\": [\"no_such_proj\"]}}");
        String second = job(initech, spec + "}");
        HttpResponse<String> third = f.send("POST", "/v1/fine_tuning/jobs", spec + "}", initech);
        assertEquals(429, third.statusCode(), third.body());
        assertTrue(error(third).contains("tenant 'initech' has 2 fine-tuning jobs"), third.body());

        JsonNode cancelled = f.ok("POST", "/v1/fine_tuning/jobs/" + second + "/cancel", null, initech);
        assertEquals("cancelled", cancelled.get("status").asText());
        f.validated(first, initech);
        assertTrue(f.worker.runOne());
        assertFalse(f.worker.runOne(), "the cancelled job is not run");
        JsonNode failed = f.ok("GET", "/v1/fine_tuning/jobs/" + first, null, initech);
        assertEquals("failed", failed.get("status").asText(), failed.toString());
        assertTrue(failed.at("/error/message").asText().contains("no_such_proj"), failed.toString());
        assertEquals("training_failed", failed.at("/error/code").asText());
        HttpResponse<String> late = f.send("POST", "/v1/fine_tuning/jobs/" + first + "/cancel", null, initech);
        assertEquals(409, late.statusCode(), late.body());

        String running = job(initech, spec + ", \"hyperparameters\": {\"n_epochs\": 50, \"batch_size\": 1}}");
        f.validated(running, initech);
        Thread worker = Thread.ofPlatform().start(f.worker::runOne);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (events(running, initech).stream().noneMatch(e -> e.get("type").asText().equals("metrics"))) {
            assertTrue(System.nanoTime() < deadline, "the job's first step");
            Thread.sleep(20);
        }
        f.ok("POST", "/v1/fine_tuning/jobs/" + running + "/cancel", null, initech);
        worker.join(Duration.ofSeconds(30));
        assertFalse(worker.isAlive(), "the worker stops the cancelled job at its next step");
        JsonNode stopped = f.ok("GET", "/v1/fine_tuning/jobs/" + running, null, initech);
        assertEquals("cancelled", stopped.get("status").asText());
        assertTrue(stopped.get("fine_tuned_model").isNull());
        assertEquals(404, f.send("GET", "/v1/adapters/limits", null, initech).statusCode(), "nothing registered");
        assertFalse(Files.exists(f.state.resolve("jobs").resolve(running)));

        String umbrella = f.tenant("umbrella");
        String big = f.file("big.jsonl", support(0, 40), umbrella);
        long tokens = f.ok("GET", "/v1/files/" + big, null, umbrella).get("tokens").asLong();
        int most = (int) (MAX_TOKENS / tokens);
        assertTrue(most >= 4 && most < 50, "the file suits the budget: " + tokens + " tokens");
        String tooMany = "{\"model\": \"tiny\", \"training_file\": \"" + big + "\", \"hyperparameters\": "
                + "{\"n_epochs\": ";
        HttpResponse<String> never = f.send("POST", "/v1/fine_tuning/jobs", tooMany + (most + 1) + "}}", umbrella);
        assertEquals(400, never.statusCode(), never.body());
        assertTrue(error(never).contains("more than the " + MAX_TOKENS + " training tokens tenant 'umbrella' may use"),
                never.body());
        String reserved = job(umbrella, tooMany + (most - most / 2) + "}}");
        HttpResponse<String> spent = f.send("POST", "/v1/fine_tuning/jobs", tooMany + (most / 2 + 1) + "}}",
                umbrella);
        assertEquals(429, spent.statusCode(), spent.body());
        assertTrue(error(spent).contains("has used or reserved " + tokens * (most - most / 2) + " of its "
                + MAX_TOKENS + " training tokens"), spent.body());
        f.ok("POST", "/v1/fine_tuning/jobs/" + reserved + "/cancel", null, umbrella);
    }
}
