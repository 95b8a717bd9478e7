package dev.tailor.serve;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import dev.tailor.generate.GenerationResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official OpenAI Java client, pointed at the server with a dummy key, gets the engine's greedy text. */
class OpenAiClientTest {
    private static final String PROMPT = "Once upon a time";
    private static ServerFixture fixture;
    private static OpenAIClient client;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        fixture = ServerFixture.start(tmp, ServerOptions.defaults());
        client = OpenAIOkHttpClient.builder().baseUrl(fixture.baseUrl() + "/v1").apiKey("dummy").maxRetries(0)
                .build();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    private static CompletionCreateParams completion(String model) {
        return CompletionCreateParams.builder().model(model).prompt(PROMPT).maxTokens(12).temperature(0.0).build();
    }

    private static ChatCompletionCreateParams chat(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("Tell me a story")
                .maxCompletionTokens(12).temperature(0.0).build();
    }

    @Test
    void completionsGiveTheEngineGreedyText() {
        GenerationResult expected = fixture.greedy(fixture.pretrained.model(), PROMPT, 12);
        Completion c = client.completions().create(completion(ServerFixture.BASE));
        assertEquals(expected.text(), c.choices().getFirst().text());
        assertEquals(ServerFixture.BASE, c.model());
        assertEquals(expected.tokenIds().length, c.usage().orElseThrow().completionTokens());
        assertEquals(expected.promptTokens(), c.usage().orElseThrow().promptTokens());
        assertEquals(expected.finishReason().name().toLowerCase(), c.choices().getFirst().finishReason().asString());
    }

    /**
     * What evaluation harnesses send to score a continuation (lm-evaluation-harness's {@code local-completions}): the
     * context and continuation as one list of token ids, {@code echo}, {@code logprobs: 1}, one token generated and
     * dropped; the continuation's score is the sum of its tokens' log-probabilities.
     */
    @Test
    void aPromptOfTokenIdsIsEchoedWithItsScores() {
        int[] ids = fixture.pretrained.tokenizer().encode(PROMPT + " there was a dog", true);
        int context = fixture.pretrained.tokenizer().encode(PROMPT, true).length;
        List<Long> tokens = new ArrayList<>();
        for (int id : ids) {
            tokens.add((long) id);
        }
        Completion c = client.completions().create(CompletionCreateParams.builder().model("a")
                .promptOfArrayOfTokenArrays(List.of(tokens)).echo(true).logprobs(1L).maxTokens(1L).temperature(0.0)
                .build());
        var logprobs = c.choices().getFirst().logprobs().orElseThrow();
        List<Double> scores = logprobs.tokenLogprobs().orElseThrow();
        assertEquals(ids.length + 1, scores.size());
        assertEquals(null, scores.getFirst(), "nothing predicts the first token");
        double continuation = 0;
        for (Double score : scores.subList(context, ids.length)) {
            assertTrue(score < 0, scores.toString());
            continuation += score;
        }
        assertTrue(continuation < 0 && Double.isFinite(continuation));
        assertEquals(ids.length + 1, logprobs.topLogprobs().orElseThrow().size());
        assertEquals(ids.length, c.usage().orElseThrow().promptTokens());
    }

    @Test
    void severalChoicesComeBackIndexed() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model("a")
                .promptOfArrayOfStrings(List.of(PROMPT, "The sea")).n(2L).maxTokens(4L).temperature(0.0).build());
        assertEquals(List.of(0L, 1L, 2L, 3L), c.choices().stream().map(ch -> ch.index()).toList());
        assertEquals(c.choices().get(0).text(), c.choices().get(1).text(), "greedy choices agree");
        assertEquals(client.completions().create(CompletionCreateParams.builder().model("a").prompt("The sea")
                .maxTokens(4L).temperature(0.0).build()).choices().getFirst().text(), c.choices().get(2).text());
        ChatCompletion chat = client.chat().completions().create(chat("a").toBuilder().n(3L).temperature(1.0)
                .seed(1L).build());
        assertEquals(3, chat.choices().size());
    }

    @Test
    void streamedCompletionsJoinToTheSameText() {
        StringBuilder text = new StringBuilder();
        try (StreamResponse<Completion> stream = client.completions().createStreaming(completion("a"))) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(choice -> text.append(choice.text())));
        }
        assertEquals(client.completions().create(completion("a")).choices().getFirst().text(), text.toString());
        assertFalse(text.isEmpty());
    }

    @Test
    void chatGivesTheEngineGreedyChatText() {
        GenerationResult expected = fixture.greedyChat(fixture.pretrained.model(), "Tell me a story", 12);
        ChatCompletion c = client.chat().completions().create(chat(ServerFixture.BASE));
        assertEquals(expected.text(), c.choices().getFirst().message().content().orElseThrow());
        assertEquals(expected.tokenIds().length, c.usage().orElseThrow().completionTokens());
    }

    @Test
    void streamedChatJoinsToTheSameText() {
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chat("a+b"))) {
            stream.stream().forEach(chunk -> chunk.choices()
                    .forEach(choice -> choice.delta().content().ifPresent(text::append)));
        }
        String whole = client.chat().completions().create(chat("a+b")).choices().getFirst().message().content()
                .orElseThrow();
        assertEquals(whole, text.toString());
        assertFalse(text.isEmpty());
    }

    @Test
    void chatLogprobsParseAndAgreeWithTheStream() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("a")
                .addUserMessage("Tell me a story").maxCompletionTokens(6).temperature(0.0).logprobs(true)
                .topLogprobs(3).build();
        ChatCompletion c = client.chat().completions().create(params);
        var content = c.choices().getFirst().logprobs().orElseThrow().content().orElseThrow();
        assertEquals(c.usage().orElseThrow().completionTokens(), content.size());
        for (var token : content) {
            assertEquals(3, token.topLogprobs().size());
            assertEquals(token.topLogprobs().getFirst().logprob(), token.logprob(), "greedy takes the likeliest");
            assertTrue(token.logprob() < 0);
        }
        List<Double> streamed = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(choice -> choice.logprobs()
                    .flatMap(l -> l.content()).ifPresent(list -> list.forEach(t -> streamed.add(t.logprob())))));
        }
        assertEquals(content.stream().map(t -> t.logprob()).toList(), streamed, "the stream carries every token's");
    }

    @Test
    void modelsListTheBaseAndAdaptersAndUnknownModelsAreNotFound() {
        List<String> ids = client.models().list().data().stream().map(Model::id).toList();
        assertEquals(List.of(ServerFixture.BASE, "a", "b"), ids);
        NotFoundException e = assertThrows(NotFoundException.class,
                () -> client.completions().create(completion("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
        Model a = client.models().retrieve("a");
        assertEquals("a", a.id());
        assertEquals(ServerFixture.BASE, a._additionalProperties().get("parent").asString().orElseThrow());
        assertThrows(NotFoundException.class, () -> client.models().retrieve("nope"));
    }
}
