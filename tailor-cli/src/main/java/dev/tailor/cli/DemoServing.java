package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.demo.Company;
import dev.tailor.demo.Demo;
import dev.tailor.demo.DemoResult;
import dev.tailor.demo.FactKind;
import dev.tailor.demo.FactScorer;
import dev.tailor.demo.ServingRecord;
import dev.tailor.demo.SupportCorpus;
import dev.tailor.demo.SupportQuestion;
import dev.tailor.model.PretrainedModel;
import dev.tailor.serve.Access;
import dev.tailor.serve.ServedModels;
import dev.tailor.serve.ServerOptions;
import dev.tailor.serve.TailorServer;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The demo's server part: serves the domain model with a registry under the output directory ({@code serve-state/},
 * made afresh each run), registers every client's adapter, asks each client's model one question through the OpenAI
 * chat API, runs the first client's second adapter as a canary on {@value #CANARY_PERCENT}% of the traffic, promotes it
 * and rolls it back, then stops. Every call goes over HTTP, as a client of the server would make it.
 */
final class DemoServing {
    /** The canary's share of the traffic, in percent. */
    static final int CANARY_PERCENT = 10;
    /** How many users ask during the canary. */
    static final int CANARY_USERS = 40;
    private static final int MAX_TOKENS = 64;
    /** The server's own loggers, quiet while the demo prints its story (held, so their level holds). */
    private static final List<Logger> QUIET = List.of(Logger.getLogger("dev.tailor.serve"),
            Logger.getLogger("io.helidon"), Logger.getLogger("org.flywaydb"), Logger.getLogger("com.zaxxer.hikari"));

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final List<ServingRecord.Call> calls = new ArrayList<>();
    private final PrintWriter out;
    private String url;

    private DemoServing(PrintWriter out) {
        this.out = out;
    }

    /** Runs the server part for {@code result}, printing what happens on {@code out}. */
    static ServingRecord run(DemoResult result, PrintWriter out) throws IOException, InterruptedException {
        List<Level> levels = QUIET.stream().map(Logger::getLevel).toList();
        QUIET.forEach(l -> l.setLevel(Level.WARNING));
        try {
            return new DemoServing(out).serve(result);
        } finally {
            for (int i = 0; i < QUIET.size(); i++) {
                QUIET.get(i).setLevel(levels.get(i));
            }
        }
    }

    private ServingRecord serve(DemoResult result) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path state = result.output().resolve("serve-state");
        deleteTree(state);
        String base = result.domainModel().getFileName().toString();
        try (PretrainedModel pretrained = PretrainedModel.load(result.domainModel());
             ServedModels models = new ServedModels(pretrained, base, state)) {
            TailorServer server = TailorServer.start(models, ServerOptions.defaults(), Access.open());
            try {
                url = "http://" + ServerOptions.LOOPBACK + ":" + server.port();
                out.printf("%nServing the domain model at %s/v1 with a registry in %s%n", url, state);
                for (Map.Entry<String, Path> a : result.clientAdapters().entrySet()) {
                    call("PUT", "/v1/adapters/" + a.getKey(), body("path", a.getValue().toString()));
                }
                call("GET", "/v1/models", "");
                List<ServingRecord.Reply> replies = new ArrayList<>();
                for (Company client : SupportCorpus.CLIENTS) {
                    SupportQuestion q = question(client);
                    String answer = chat(client.id(), q.question(), null);
                    boolean right = FactScorer.correct(answer, q.fact());
                    replies.add(new ServingRecord.Reply(client.id(), q.question(), answer, right));
                    out.printf("  %-10s user: %s%n  %-10s assistant: %s%s%n", client.id(), q.question(), "", answer,
                            right ? "  [right]" : "  [wrong]");
                }
                ServingRecord.Canary canary = canary(result);
                ServingRecord.Rollback rollback = rollback(canary.candidate());
                double seconds = (System.nanoTime() - start) / 1e9;
                return new ServingRecord(url + "/v1", base, replies, canary, rollback, calls, seconds);
            } finally {
                server.close();
                out.println("Server stopped.");
            }
        }
    }

    /**
     * The question every client's model is asked: the price of its espresso machine (the fact the first client's
     * second version changes), in a phrasing it was trained on; the held-out accuracy is the report's to measure.
     */
    private static SupportQuestion question(Company client) {
        String category = SupportCorpus.KITCHEN.getFirst();
        String phrasing = FactKind.PRICE.trainingQuestions(category).getFirst();
        return SupportCorpus.ask(client, FactKind.PRICE, category, phrasing);
    }

    private ServingRecord.Canary canary(DemoResult result) throws IOException, InterruptedException {
        String name = Demo.FIRST_CLIENT;
        JsonNode registered = call("PUT", "/v1/adapters/" + name, body("path", result.updatedAdapter().toString())
                .put("promote", false));
        int candidate = registered.path("version").asInt();
        call("POST", "/v1/adapters/" + name + "/aliases/canary",
                Json.MAPPER.createObjectNode().put("version", candidate));
        ObjectNode split = Json.MAPPER.createObjectNode();
        split.putObject("versions").put("1", (100 - CANARY_PERCENT) / 100.0).put(String.valueOf(candidate),
                CANARY_PERCENT / 100.0);
        call("POST", "/v1/adapters/" + name + "/traffic", split);
        String stableFact = question(SupportCorpus.client(name)).fact();
        String candidateFact = question(SupportCorpus.UPDATED_CLIENT).fact();
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int u = 0; u < CANARY_USERS; u++) {
            String user = "user-" + u;
            answers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return chat(name, question(SupportCorpus.client(name)).question(), user);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }, Thread::startVirtualThread));
        }
        int toCandidate = 0;
        for (CompletableFuture<String> a : answers) {
            if (FactScorer.correct(a.join(), candidateFact)) {
                toCandidate++;
            }
        }
        out.printf("Canary: %s version %d (its espresso machine now %s) on %d%% of the traffic: %d of %d users were "
                + "answered by it, the others by version 1 (%s)%n", name, candidate, candidateFact, CANARY_PERCENT,
                toCandidate, CANARY_USERS, stableFact);
        return new ServingRecord.Canary(name, 1, candidate, CANARY_PERCENT / 100.0, CANARY_USERS, toCandidate,
                stableFact, candidateFact);
    }

    private ServingRecord.Rollback rollback(int candidate) throws IOException, InterruptedException {
        String name = Demo.FIRST_CLIENT;
        String question = question(SupportCorpus.client(name)).question();
        call("DELETE", "/v1/adapters/" + name + "/traffic", "");
        call("POST", "/v1/adapters/" + name + "/aliases/prod",
                Json.MAPPER.createObjectNode().put("version", candidate));
        String promoted = chat(name, question, null);
        out.printf("Promoted version %d to prod: %s%n", candidate, promoted);
        JsonNode back = call("POST", "/v1/adapters/" + name + "/rollback", "");
        int restored = back.path("version").asInt();
        String restoredAnswer = chat(name, question, null);
        out.printf("Rolled back: prod is version %d again: %s%n", restored, restoredAnswer);
        return new ServingRecord.Rollback(name, candidate, promoted, restored, restoredAnswer);
    }

    /** One chat completion's reply, greedy; {@code user} (may be null) picks the version under a traffic split. */
    private String chat(String model, String question, String user) throws IOException, InterruptedException {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("model", model);
        body.putArray("messages").addObject().put("role", "user").put("content", question);
        body.put("max_tokens", MAX_TOKENS);
        body.put("temperature", 0);
        body.putArray("stop").add("\n");
        if (user != null) {
            body.put("user", user);
        }
        JsonNode response = call("POST", "/v1/chat/completions", body);
        return response.at("/choices/0/message/content").asText().strip();
    }

    private static ObjectNode body(String field, String value) {
        return Json.MAPPER.createObjectNode().put(field, value);
    }

    /**
     * Makes one HTTP call, records it and returns its JSON body.
     *
     * @throws IllegalStateException naming the call when the server does not answer 200
     */
    private JsonNode call(String method, String path, Object body) throws IOException, InterruptedException {
        String text = body instanceof String s ? s : Json.MAPPER.writeValueAsString(body);
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json")
                .method(method, text.isEmpty() ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(text)).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        String answer = response.body();
        synchronized (calls) {
            calls.add(new ServingRecord.Call(method, path, text, response.statusCode(),
                    answer.length() > 600 ? answer.substring(0, 600) + "…" : answer));
        }
        if (response.statusCode() != 200) {
            throw new IllegalStateException(method + " " + path + " answered " + response.statusCode() + ": " + answer);
        }
        return answer.isEmpty() ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(answer);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> paths = new ArrayList<>(walk.toList());
            paths.sort(Comparator.reverseOrder());
            for (Path p : paths) {
                Files.deleteIfExists(p);
            }
        }
    }
}
