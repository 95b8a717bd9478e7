package dev.tailor.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.generate.ContinuousBatcher;
import dev.tailor.generate.GenerationResult;
import dev.tailor.generate.Generator;
import dev.tailor.generate.TokenLogprob;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;
import dev.tailor.serve.OpenAiShapes.AssistantMessage;
import dev.tailor.serve.OpenAiShapes.ChatChoice;
import dev.tailor.serve.OpenAiShapes.ChatChunk;
import dev.tailor.serve.OpenAiShapes.ChunkChoice;
import dev.tailor.serve.OpenAiShapes.Completion;
import dev.tailor.serve.OpenAiShapes.CompletionChoice;
import dev.tailor.serve.OpenAiShapes.Delta;
import dev.tailor.serve.OpenAiShapes.Usage;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: resolves the model, encodes the prompts (a
 * completion may have several), checks them against the context and the token limit, submits {@code n} generations
 * per prompt to the running batch ({@link ContinuousBatcher}) and answers with one JSON body of every choice or,
 * with {@code "stream": true}, server-sent events written by this request's own thread as the batch produces them,
 * each chunk naming its choice. A client that goes away leaves the batch at its
 * next step. A request past the server's request timeout is stopped: a 504, or a stream that ends with an error
 * event and {@code data: [DONE]}.
 */
final class CompletionsEndpoint {
    /** Which of the two endpoints. */
    enum Kind { TEXT, CHAT }

    private final Kind kind;
    private final ServedModels models;
    private final ContinuousBatcher batcher;
    private final ObjectMapper json;
    private final int maxTokensLimit;
    private final Duration timeout;
    private final ServerMetrics metrics;
    private final LogprobShapes logprobs;

    CompletionsEndpoint(Kind kind, ServedModels models, ContinuousBatcher batcher, ObjectMapper json,
                        ServerOptions options, ServerMetrics metrics) {
        this.kind = kind;
        this.models = models;
        this.batcher = batcher;
        this.json = json;
        this.maxTokensLimit = options.maxTokensLimit();
        this.timeout = options.requestTimeout();
        this.metrics = metrics;
        this.logprobs = new LogprobShapes(models.pretrained().tokenizer());
    }

    /** Answers one request: every prompt's {@code n} choices, each a generation of its own in the batch. */
    void handle(RequestBody body, ServerResponse res) throws IOException {
        String model = body.requiredString("model");
        Caller caller = Caller.current();
        LlamaModel view = models.resolve(model, caller, body.string("user"));
        AccessRecord.current().model(models.qualified(model, caller));
        PretrainedModel pretrained = models.pretrained();
        List<Prompts.Prompt> prompts = kind == Kind.CHAT ? List.of(Prompts.chat(body, pretrained, model))
                : Prompts.completions(body, pretrained, GenerationParams.MAX_CHOICES);
        GenerationParams params = GenerationParams.parse(body, maxTokensLimit, kind == Kind.CHAT,
                pretrained.model().config().vocabSize());
        if (prompts.size() * params.n() > GenerationParams.MAX_CHOICES) {
            throw ApiException.badRequest("n", "at most " + GenerationParams.MAX_CHOICES + " choices a request "
                    + "(prompts times 'n'), got " + prompts.size() + " × " + params.n());
        }
        int[] budgets = new int[prompts.size()];
        for (int p = 0; p < prompts.size(); p++) {
            budgets[p] = budget(prompts.get(p).ids().length, view.contextLength(), params.maxTokens());
        }
        Pieces pieces = new Pieces(AccessRecord.current().arrival(), timeout);
        List<Choice> choices = new ArrayList<>();
        try {
            for (int p = 0; p < prompts.size(); p++) {
                for (int j = 0; j < params.n(); j++) {
                    choices.add(submit(choices.size(), prompts.get(p), budgets[p], j, view, params, pieces));
                }
            }
            Call call = new Call("cmpl-" + UUID.randomUUID().toString().replace("-", ""),
                    System.currentTimeMillis() / 1000, model);
            if (params.stream()) {
                stream(call, choices, pieces, params, res);
            } else {
                GenerationResult[] results = new GenerationResult[choices.size()];
                for (Choice c : choices) {
                    results[c.index()] = finished(c, pieces);
                }
                Usage usage = tally(choices, results, pieces);
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                res.send(json.writeValueAsBytes(whole(call, choices, results, usage, params.echo())));
            }
        } finally {
            choices.forEach(c -> c.submission().cancel());
        }
    }

    /**
     * Submits choice {@code index}: {@code prompt}'s {@code j}-th sample, drawn with the request's seed plus
     * {@code j} (so the first is the request's with {@code n} 1).
     */
    private Choice submit(int index, Prompts.Prompt prompt, int maxTokens, int j, LlamaModel view,
                          GenerationParams params, Pieces pieces) {
        PretrainedModel pretrained = models.pretrained();
        TokenRelay relay = new TokenRelay(index, pieces, metrics);
        Generator.Request request = new Generator(view, pretrained.tokenizer(), pretrained.eosIds()).generate()
                .promptIds(prompt.ids()).maxTokens(maxTokens)
                .sampling(params.sampling().withSeed(params.sampling().seed() + j))
                .stop(params.stops().toArray(String[]::new)).stopTokenIds(params.stopTokenIds())
                .ignoreEos(params.ignoreEos()).minTokens(params.minTokens()).onToken(relay::piece);
        if (params.topLogprobs() != null) {
            request.logprobs(params.topLogprobs(), relay::logprob);
            if (params.echo()) {
                request.promptLogprobs(params.topLogprobs(), lps -> relay.prompt(prompt.text(), lps));
            }
        }
        ContinuousBatcher.Submission submission = submit(request);
        submission.result().whenComplete((r, e) -> relay.end());
        return new Choice(index, prompt, relay, submission);
    }

    private ContinuousBatcher.Submission submit(Generator.Request request) {
        try {
            return batcher.submit(request);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("prompt", e.getMessage());
        } catch (RejectedExecutionException e) {
            int waiting = batcher.waiting();
            long guess = metrics.lastGenerationNanos();
            throw ApiException.queueFull(waiting, (int) Math.max(1, TimeUnit.NANOSECONDS.toSeconds(guess) + 1));
        }
    }

    /**
     * Waits for a choice's generation until the request's deadline and counts its tokens for the metrics.
     *
     * @throws ApiException 504 past the deadline, or what failed the generation
     */
    private GenerationResult finished(Choice choice, Pieces pieces) {
        GenerationResult r;
        try {
            r = choice.submission().result().get(Math.max(0, pieces.deadline() - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw choice.relay().timedOut();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.internal(e);
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        } catch (CancellationException e) {
            throw failure(e);
        }
        metrics.generated(r.tokenIds().length);
        return r;
    }

    /**
     * Notes a finished request's token counts for the access log and its time for the metrics; returns its usage: each
     * prompt's tokens once, and every choice's generated tokens.
     */
    private Usage tally(List<Choice> choices, GenerationResult[] results, Pieces pieces) {
        int prompt = 0;
        int completion = 0;
        Prompts.Prompt previous = null;
        for (Choice c : choices) {
            if (c.prompt() != previous) {
                prompt += c.prompt().ids().length;
                previous = c.prompt();
            }
            completion += results[c.index()].tokenIds().length;
        }
        AccessRecord.current().tokens(prompt, completion);
        metrics.generationTook(System.nanoTime() - pieces.arrival());
        return Usage.of(prompt, completion);
    }

    /** What a failed generation answers: its own API error, 503 when the server is shutting down, else 500. */
    private static ApiException failure(Throwable cause) {
        if (cause instanceof ApiException api) {
            return api;
        }
        if (cause instanceof CancellationException) {
            return new ApiException(503, "server_error", "shutting_down", null, "the server is shutting down");
        }
        return ApiException.internal(cause);
    }

    /**
     * The tokens to generate: {@code max_tokens} when the prompt and it fit the context, else the server's limit or
     * what is left of the context, whichever is less.
     */
    private int budget(int promptTokens, int context, Integer maxTokens) {
        if (promptTokens >= context) {
            throw ApiException.badRequest("prompt", "the prompt is " + promptTokens + " tokens; this model's context "
                    + "is " + context + " tokens and needs room for at least one more");
        }
        if (maxTokens == null) {
            return Math.min(maxTokensLimit, context - promptTokens);
        }
        if (promptTokens + maxTokens > context) {
            throw ApiException.badRequest("max_tokens", "this model's context is " + context + " tokens, but "
                    + promptTokens + " in the prompt and " + maxTokens + " in 'max_tokens' were requested");
        }
        return maxTokens;
    }

    /** The whole answer; with {@code echo} a completion's text (and log-probabilities) start with its prompt's. */
    private Object whole(Call call, List<Choice> choices, GenerationResult[] results, Usage usage, boolean echo) {
        if (kind == Kind.CHAT) {
            List<ChatChoice> out = new ArrayList<>();
            for (Choice c : choices) {
                GenerationResult r = results[c.index()];
                out.add(new ChatChoice(c.index(), new AssistantMessage("assistant", r.text()),
                        logprobs.chat(r.logprobs()), finishReason(r)));
            }
            return new OpenAiShapes.ChatCompletion(call.id, "chat.completion", call.created, call.model, out, usage);
        }
        List<CompletionChoice> out = new ArrayList<>();
        for (Choice c : choices) {
            GenerationResult r = results[c.index()];
            String prompt = echo ? c.prompt().text() : "";
            out.add(new CompletionChoice(c.index(), prompt + r.text(), logprobs.completion(r.promptLogprobs(),
                    r.logprobs(), prompt.length()), finishReason(r)));
        }
        return new Completion(call.id, "text_completion", call.created, call.model, out, usage);
    }

    /**
     * Streams the choices' pieces as the batch produces them, each chunk naming its choice; a choice ends with a
     * chunk carrying its finish reason. With {@code echo} each choice's prompt comes first (with log-probabilities,
     * from its relay once the prompt has run).
     */
    private void stream(Call call, List<Choice> choices, Pieces pieces, GenerationParams params,
                        ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        try (OutputStream out = res.outputStream()) {
            SseStream sse = new SseStream(json, out);
            int[] offsets = new int[choices.size()];
            for (Choice c : choices) {
                if (kind == Kind.CHAT) {
                    sse.send(chatChunk(call, c.index(), new Delta("assistant", ""), null, null));
                } else if (params.echo() && params.topLogprobs() == null) {
                    String prompt = c.prompt().text();
                    sse.send(chunk(call, c.index(), prompt, List.of(), 0, null));
                    offsets[c.index()] = prompt.length();
                }
            }
            GenerationResult[] results = new GenerationResult[choices.size()];
            int open = choices.size();
            while (open > 0) {
                TokenRelay.Piece piece = pieces.next();
                if (piece == null) {
                    Choice late = choices.stream().filter(c -> results[c.index()] == null).findFirst().orElseThrow();
                    sse.send(late.relay().timedOut().body());
                    sse.done();
                    return;
                }
                int i = piece.index();
                if (!piece.end()) {
                    sse.send(chunk(call, i, piece.text(), piece.logprobs(), offsets[i], null));
                    offsets[i] += piece.text().length();
                    continue;
                }
                open--;
                try {
                    results[i] = finished(choices.get(i), pieces);
                } catch (ApiException e) {
                    sse.send(e.body());
                    sse.done();
                    return;
                }
                TokenRelay.Piece rest = choices.get(i).relay().rest();
                sse.send(chunk(call, i, kind == Kind.CHAT ? null : "", rest.logprobs(), offsets[i],
                        finishReason(results[i])));
            }
            Usage usage = tally(choices, results, pieces);
            if (params.includeUsage()) {
                sse.send(switch (kind) {
                    case TEXT -> new Completion(call.id, "text_completion", call.created, call.model, List.of(), usage);
                    case CHAT -> new ChatChunk(call.id, "chat.completion.chunk", call.created, call.model, List.of(),
                            usage);
                });
            }
            sse.done();
        } catch (SseStream.ClientGone | IOException e) {
            // the client went away: the caller cancels its generations, and there is no one to answer
        }
    }

    /** A stream chunk of choice {@code index} with {@code text} and the log-probabilities of its tokens. */
    private Object chunk(Call call, int index, String text, List<TokenLogprob> tokens, int offset, String finish) {
        return switch (kind) {
            case TEXT -> new Completion(call.id, "text_completion", call.created, call.model,
                    List.of(new CompletionChoice(index, text, logprobs.completion(tokens, offset), finish)), null);
            case CHAT -> chatChunk(call, index, new Delta(null, text), logprobs.chat(tokens), finish);
        };
    }

    private static ChatChunk chatChunk(Call call, int index, Delta delta, Object logprobs, String finish) {
        return new ChatChunk(call.id, "chat.completion.chunk", call.created, call.model,
                List.of(new ChunkChoice(index, delta, logprobs, finish)), null);
    }

    private static String finishReason(GenerationResult r) {
        return r.finishReason().name().toLowerCase();
    }

    /** What every chunk of one answer repeats. */
    private record Call(String id, long created, String model) {
    }

    /** One choice of a request: its index in the answer, its prompt, and its generation's relay and submission. */
    private record Choice(int index, Prompts.Prompt prompt, TokenRelay relay, ContinuousBatcher.Submission submission) {
    }
}
