package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.AdapterStack;
import dev.tailor.generate.Generator;
import dev.tailor.generate.SamplingParams;
import dev.tailor.model.LlamaModel;
import dev.tailor.train.Evaluator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The completions fields beyond plain generation, as OpenAI and vLLM serve them: {@code echo} (the prompt scored,
 * what evaluation harnesses send with {@code max_tokens} 0 or 1), prompts as token ids, {@code logit_bias},
 * {@code presence_penalty} and {@code frequency_penalty}; and the fields not served, refused unless neutral.
 */
class CompletionFieldsTest {
    private static final String PROMPT = "Call me Ishmael. Some years ago";
    private static ServerFixture fixture;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        fixture = ServerFixture.start(tmp, ServerOptions.defaults());
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private static JsonNode complete(String fields) throws Exception {
        HttpResponse<String> r = fixture.post("/v1/completions", "{\"model\": \"a\", " + fields + "}");
        assertEquals(200, r.statusCode(), r.body());
        return ServerFixture.json(r.body()).at("/choices/0");
    }

    private static int[] promptIds() {
        return fixture.pretrained.tokenizer().encode(PROMPT, true);
    }

    @Test
    void anEchoedPromptIsScoredAndTheGenerationFollowsIt() throws Exception {
        String prompt = "\"prompt\": \"" + PROMPT + "\", \"temperature\": 0, \"logprobs\": 1";
        JsonNode scored = complete(prompt + ", \"echo\": true, \"max_tokens\": 0");
        assertEquals(PROMPT, scored.get("text").asText());
        assertEquals("length", scored.get("finish_reason").asText());
        JsonNode lps = scored.at("/logprobs/token_logprobs");
        assertEquals(promptIds().length, lps.size());
        assertTrue(lps.get(0).isNull() && scored.at("/logprobs/top_logprobs/0").isNull(), "the first is unscored");
        for (int i = 1; i < lps.size(); i++) {
            assertTrue(lps.get(i).asDouble() < 0, "token " + i + ": " + lps.get(i));
            double best = scored.at("/logprobs/top_logprobs/" + i).elements().next().asDouble();
            assertTrue(lps.get(i).asDouble() <= best, "token " + i + " is no likelier than the likeliest");
        }
        JsonNode plain = complete(prompt + ", \"max_tokens\": 4");
        JsonNode echoed = complete(prompt + ", \"echo\": true, \"max_tokens\": 4");
        assertEquals(PROMPT + plain.get("text").asText(), echoed.get("text").asText());
        List<JsonNode> all = new ArrayList<>();
        echoed.at("/logprobs/token_logprobs").forEach(all::add);
        assertEquals(lps.size() + 4, all.size());
        assertEquals(listOf(lps), all.subList(0, lps.size()), "the prompt's scores whatever follows");
        assertEquals(listOf(plain.at("/logprobs/token_logprobs")), all.subList(lps.size(), all.size()),
                "the generated tokens' as without echo");
        assertEquals(PROMPT.length(), echoed.at("/logprobs/text_offset/" + lps.size()).asInt(),
                "the first generated token's text starts after the prompt");
    }

    @Test
    void anEchoedPromptsScoresSumToTheEvaluatorsLoss() throws Exception {
        JsonNode scored = complete("\"prompt\": \"" + PROMPT + "\", \"echo\": true, \"max_tokens\": 0, "
                + "\"logprobs\": 0");
        double sum = 0;
        for (JsonNode lp : listOf(scored.at("/logprobs/token_logprobs")).subList(1, promptIds().length)) {
            sum += lp.asDouble();
        }
        int[] ids = promptIds();
        double nll = new Evaluator(adapterA(), fixture.pretrained.tokenizer(), null).sequenceLoss(ids, ids).nllSum();
        assertEquals(-nll, sum, 1e-4 * nll, "the served scores against the evaluation path's summed NLL");
    }

    private static List<JsonNode> listOf(JsonNode array) {
        List<JsonNode> list = new ArrayList<>();
        array.forEach(list::add);
        return list;
    }

    @Test
    void aPromptOfTokenIdsAnswersAsItsText() throws Exception {
        String ids = Arrays.toString(promptIds());
        String rest = ", \"max_tokens\": 6, \"temperature\": 0, \"logprobs\": 2";
        JsonNode text = complete("\"prompt\": \"" + PROMPT + "\"" + rest);
        assertEquals(text, complete("\"prompt\": " + ids + rest));
        assertEquals(text, complete("\"prompt\": [" + ids + "]" + rest));
    }

    @Test
    void theStreamEchoesThePromptFirst() throws Exception {
        String fields = "\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 5, \"temperature\": 0, \"echo\": true";
        for (String logprobs : new String[] {"", ", \"logprobs\": 1"}) {
            JsonNode whole = complete(fields + logprobs);
            HttpResponse<String> r = fixture.post("/v1/completions", "{\"model\": \"a\", \"stream\": true, "
                    + fields + logprobs + "}");
            assertEquals(200, r.statusCode(), r.body());
            List<JsonNode> events = new ArrayList<>();
            for (String line : r.body().lines().filter(l -> l.startsWith("data: {")).toList()) {
                events.add(ServerFixture.json(line.substring("data: ".length())).at("/choices/0"));
            }
            assertEquals(PROMPT, events.getFirst().get("text").asText(), "the prompt comes first" + logprobs);
            StringBuilder streamed = new StringBuilder();
            List<JsonNode> scores = new ArrayList<>();
            for (JsonNode e : events) {
                streamed.append(e.get("text").asText());
                e.at("/logprobs/token_logprobs").forEach(scores::add);
            }
            assertEquals(whole.get("text").asText(), streamed.toString());
            assertEquals(listOf(whole.at("/logprobs/token_logprobs")), scores);
        }
    }

    /** The engine's model with adapter a, as {@code tailor generate --adapter} makes it. */
    private static LlamaModel adapterA() {
        return fixture.pretrained.model().withAdapters(AdapterStack.sites(
                AdapterStack.load(List.of(fixture.adapterA), fixture.modelDir, false)));
    }

    @Test
    void penaltiesAndLogitBiasGiveTheEnginesTokens() throws Exception {
        int favoured = promptIds()[3];
        SamplingParams steered = SamplingParams.GREEDY.withPenalties(1.5f, 0.5f)
                .withLogitBias(Map.of(favoured, 4f, promptIds()[2], -100f));
        String engine = new Generator(adapterA(), fixture.pretrained.tokenizer(), fixture.pretrained.eosIds())
                .generate().prompt(PROMPT).maxTokens(12).sampling(steered).run().text();
        String fields = "\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 12, \"temperature\": 0";
        JsonNode served = complete(fields + ", \"presence_penalty\": 1.5, \"frequency_penalty\": 0.5, \"logit_bias\": "
                + "{\"" + favoured + "\": 4, \"" + promptIds()[2] + "\": -100}");
        assertEquals(engine, served.get("text").asText());
        assertNotEquals(complete(fields).get("text").asText(), engine, "the fields change the text");
        JsonNode forced = complete(fields + ", \"logit_bias\": {\"" + favoured + "\": 100}, \"logprobs\": 0");
        String token = fixture.pretrained.tokenizer().decode(new int[] {favoured}, false);
        forced.at("/logprobs/tokens").forEach(t -> assertEquals(token, t.asText(), "a bias of 100 forces the token"));
    }

    @Test
    void vllmsStopTokenIdsMinTokensAndIgnoreEosGiveTheEnginesTokens() throws Exception {
        String fields = "\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 10, \"temperature\": 0";
        int stop = fixture.greedy(adapterA(), PROMPT, 10).tokenIds()[2];
        Generator.Request engine = new Generator(adapterA(), fixture.pretrained.tokenizer(),
                fixture.pretrained.eosIds()).generate().prompt(PROMPT).maxTokens(10).sampling(SamplingParams.GREEDY);
        JsonNode stopped = complete(fields + ", \"stop_token_ids\": [" + stop + "]");
        assertEquals("stop", stopped.get("finish_reason").asText());
        assertEquals(engine.stopTokenIds(stop).run().text(), stopped.get("text").asText());
        JsonNode held = complete(fields + ", \"stop_token_ids\": [" + stop + "], \"min_tokens\": 6, "
                + "\"ignore_eos\": true");
        assertEquals(engine.minTokens(6).ignoreEos(true).run().text(), held.get("text").asText());
        assertNotEquals(stopped.get("text").asText(), held.get("text").asText());
    }

    @Test
    void everyPromptsNChoicesAreEachTheRequestWithItsOwnSeed() throws Exception {
        String sampled = "\"max_tokens\": 6, \"temperature\": 0.9, \"seed\": 5, \"logprobs\": 1";
        HttpResponse<String> r = fixture.post("/v1/completions", "{\"model\": \"a\", \"prompt\": [\"The sea\", "
                + "\"A dog\"], \"n\": 3, \"echo\": true, " + sampled + "}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode answer = ServerFixture.json(r.body());
        JsonNode choices = answer.get("choices");
        assertEquals(6, choices.size());
        int completion = 0;
        for (int i = 0; i < 6; i++) {
            String prompt = i < 3 ? "The sea" : "A dog";
            JsonNode alone = complete("\"prompt\": \"" + prompt + "\", \"echo\": true, "
                    + sampled.replace("\"seed\": 5", "\"seed\": " + (5 + i % 3)));
            assertEquals(i, choices.get(i).get("index").asInt());
            assertEquals(alone.get("text"), choices.get(i).get("text"), "choice " + i);
            assertEquals(alone.get("logprobs"), choices.get(i).get("logprobs"), "choice " + i);
            completion += alone.at("/logprobs/tokens").size() - fixture.pretrained.tokenizer().encode(prompt, true)
                    .length;
        }
        assertNotEquals(choices.get(0).get("text"), choices.get(1).get("text"), "samples with their own seeds");
        int promptTokens = fixture.pretrained.tokenizer().encode("The sea", true).length
                + fixture.pretrained.tokenizer().encode("A dog", true).length;
        assertEquals(promptTokens, answer.at("/usage/prompt_tokens").asInt(), "each prompt counted once");
        assertEquals(completion, answer.at("/usage/completion_tokens").asInt());
    }

    @Test
    void aStreamOfSeveralChoicesInterleavesThemByIndex() throws Exception {
        String fields = "\"prompt\": [\"The sea\", \"A dog\"], \"n\": 2, \"max_tokens\": 5, \"temperature\": 0.9, "
                + "\"seed\": 3";
        JsonNode whole = ServerFixture.json(fixture.post("/v1/completions", "{\"model\": \"a\", " + fields + "}")
                .body());
        HttpResponse<String> r = fixture.post("/v1/completions", "{\"model\": \"a\", \"stream\": true, "
                + "\"stream_options\": {\"include_usage\": true}, " + fields + "}");
        assertEquals(200, r.statusCode(), r.body());
        StringBuilder[] texts = {new StringBuilder(), new StringBuilder(), new StringBuilder(), new StringBuilder()};
        int[] finishes = new int[4];
        JsonNode usage = null;
        for (String line : r.body().lines().filter(l -> l.startsWith("data: {")).toList()) {
            JsonNode event = ServerFixture.json(line.substring("data: ".length()));
            for (JsonNode c : event.get("choices")) {
                int i = c.get("index").asInt();
                texts[i].append(c.get("text").asText());
                finishes[i] += c.get("finish_reason").isNull() ? 0 : 1;
            }
            if (!event.get("usage").isNull()) {
                usage = event.get("usage");
            }
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(whole.at("/choices/" + i + "/text").asText(), texts[i].toString(), "choice " + i);
            assertEquals(1, finishes[i], "one finish for choice " + i);
        }
        assertEquals(whole.get("usage"), usage);
        HttpResponse<String> chat = fixture.post("/v1/chat/completions", "{\"model\": \"a\", \"messages\": "
                + "[{\"role\": \"user\", \"content\": \"Hi\"}], \"n\": 2, \"max_tokens\": 3, \"stream\": true}");
        assertEquals(2, chat.body().lines().filter(l -> l.contains("\"role\":\"assistant\"")).count(),
                "each chat choice starts with its role");
    }

    @Test
    void vllmsTokenizeAndDetokenizeUseTheModelsTokenizer() throws Exception {
        HttpResponse<String> r = fixture.post("/tokenize", "{\"model\": \"a\", \"prompt\": \"" + PROMPT + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode tokens = ServerFixture.json(r.body());
        int[] ids = promptIds();
        assertEquals(Arrays.toString(ids), tokens.get("tokens").toString().replace(",", ", "));
        assertEquals(ids.length, tokens.get("count").asInt());
        assertEquals(adapterA().contextLength(), tokens.get("max_model_len").asInt());
        JsonNode bare = ServerFixture.json(fixture.post("/tokenize", "{\"model\": \"a\", \"prompt\": \"" + PROMPT
                + "\", \"add_special_tokens\": false}").body());
        assertEquals(ids.length - 1, bare.get("count").asInt(), "without the BOS");
        JsonNode chat = ServerFixture.json(fixture.post("/tokenize", "{\"model\": \"a\", \"messages\": [{\"role\": "
                + "\"user\", \"content\": \"Hi\"}]}").body());
        String rendered = fixture.pretrained.chatTemplate().render(
                List.of(new dev.tailor.tokenizer.ChatMessage("user", "Hi")), true, Map.of());
        assertEquals(fixture.pretrained.tokenizer().encode(rendered, false).length, chat.get("count").asInt());
        HttpResponse<String> back = fixture.post("/detokenize", "{\"model\": \"a\", \"tokens\": "
                + tokens.get("tokens") + "}");
        assertEquals(200, back.statusCode(), back.body());
        assertEquals(PROMPT, ServerFixture.json(back.body()).get("prompt").asText());
        String vocab = Integer.toString(fixture.pretrained.model().config().vocabSize());
        for (String[] bad : new String[][] {{"/tokenize", "{\"model\": \"a\"}", "400", "prompt"},
                {"/tokenize", "{\"model\": \"nope\", \"prompt\": \"x\"}", "404", "model"},
                {"/detokenize", "{\"model\": \"a\"}", "400", "tokens"},
                {"/detokenize", "{\"model\": \"a\", \"tokens\": \"12\"}", "400", "tokens"},
                {"/detokenize", "{\"model\": \"a\", \"tokens\": [1, " + vocab + "]}", "400", "tokens"}}) {
            HttpResponse<String> refused = fixture.post(bad[0], bad[1]);
            assertEquals(Integer.parseInt(bad[2]), refused.statusCode(), bad[1] + ": " + refused.body());
            assertEquals(bad[3], ServerFixture.json(refused.body()).at("/error/param").asText(), bad[1]);
        }
    }

    @Test
    void unservedFieldsAreRefusedUnlessNeutralAndBadValuesAreNamed() throws Exception {
        String vocab = Integer.toString(fixture.pretrained.model().config().vocabSize());
        Map<String, String> refused = Map.ofEntries(
                Map.entry("\"max_tokens\": 0", "max_tokens"),
                Map.entry("\"logit_bias\": {\"x\": 1}", "logit_bias"),
                Map.entry("\"logit_bias\": [1]", "logit_bias"),
                Map.entry("\"logit_bias\": {\"" + vocab + "\": 1}", "logit_bias"),
                Map.entry("\"logit_bias\": {\"5\": 101}", "logit_bias"),
                Map.entry("\"logit_bias\": {\"5\": \"up\"}", "logit_bias.5"),
                Map.entry("\"presence_penalty\": 2.5", "presence_penalty"),
                Map.entry("\"frequency_penalty\": -3", "frequency_penalty"),
                Map.entry("\"best_of\": 3", "best_of"),
                Map.entry("\"suffix\": \"the end\"", "suffix"),
                Map.entry("\"response_format\": {\"type\": \"json_object\"}", "response_format"),
                Map.entry("\"tools\": [{\"type\": \"function\"}]", "tools"),
                Map.entry("\"tool_choice\": \"required\"", "tool_choice"),
                Map.entry("\"functions\": [{\"name\": \"f\"}]", "functions"),
                Map.entry("\"prompt\": [1, " + vocab + "]", "prompt"),
                Map.entry("\"n\": 0", "n"),
                Map.entry("\"n\": 65", "n"),
                Map.entry("\"n\": 2, \"best_of\": 3", "best_of"),
                Map.entry("\"prompt\": [[1], \"a\"]", "prompt[1]"),
                Map.entry("\"prompt\": [[]]", "prompt"),
                Map.entry("\"prompt\": [1, \"a\"]", "prompt[1]"),
                Map.entry("\"stop_token_ids\": \"2\"", "stop_token_ids"),
                Map.entry("\"stop_token_ids\": [" + vocab + "]", "stop_token_ids"),
                Map.entry("\"stop_token_ids\": [-1]", "stop_token_ids"),
                Map.entry("\"min_tokens\": -1", "min_tokens"),
                Map.entry("\"min_tokens\": 3", "min_tokens"),
                Map.entry("\"use_beam_search\": true", "use_beam_search"),
                Map.entry("\"guided_json\": {\"type\": \"object\"}", "guided_json"),
                Map.entry("\"guided_choice\": [\"yes\", \"no\"]", "guided_choice"),
                Map.entry("\"prompt_logprobs\": 1", "prompt_logprobs"),
                Map.entry("\"skip_special_tokens\": false", "skip_special_tokens"),
                Map.entry("\"include_stop_str_in_output\": true", "include_stop_str_in_output"));
        for (var e : refused.entrySet()) {
            String body = "{\"model\": \"a\", " + (e.getKey().startsWith("\"prompt\"") ? "" : "\"prompt\": \"Hi\", ")
                    + (e.getKey().startsWith("\"max_tokens\"") ? "" : "\"max_tokens\": 2, ") + e.getKey() + "}";
            HttpResponse<String> r = fixture.post("/v1/completions", body);
            assertEquals(400, r.statusCode(), e.getKey() + ": " + r.body());
            assertEquals(e.getValue(), ServerFixture.json(r.body()).at("/error/param").asText(), e.getKey());
        }
        HttpResponse<String> chat = fixture.post("/v1/chat/completions", "{\"model\": \"a\", \"messages\": [{\"role\": "
                + "\"user\", \"content\": \"Hi\"}], \"echo\": true}");
        assertEquals(400, chat.statusCode(), chat.body());
        assertEquals("echo", ServerFixture.json(chat.body()).at("/error/param").asText());
        complete("\"prompt\": \"Hi\", \"max_tokens\": 2, \"best_of\": 1, \"suffix\": null, \"tools\": [], "
                + "\"tool_choice\": \"none\", \"functions\": null, \"response_format\": {\"type\": \"text\"}, "
                + "\"presence_penalty\": 0, \"frequency_penalty\": 0, \"logit_bias\": {}, \"echo\": false, "
                + "\"user\": \"u1\", \"use_beam_search\": false, \"skip_special_tokens\": true, \"guided_json\": null, "
                + "\"min_tokens\": 0, \"stop_token_ids\": [], \"ignore_eos\": false");
    }
}
