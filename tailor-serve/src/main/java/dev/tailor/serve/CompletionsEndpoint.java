package dev.tailor.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.generate.ContinuousBatcher;
import dev.tailor.generate.GenerationResult;
import dev.tailor.generate.Generator;
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
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: resolves the model, encodes the prompt, checks
 * it against the context and the token limit, submits the generation to the running batch
 * ({@link ContinuousBatcher}) and answers with one JSON body or, with {@code "stream": true}, server-sent events
 * written by this request's own thread as the batch produces them. A client that goes away leaves the batch at its
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

    /** Answers one request. */
    void handle(RequestBody body, ServerResponse res) throws IOException {
        String model = body.requiredString("model");
        Caller caller = Caller.current();
        LlamaModel view = models.resolve(model, caller, body.string("user"));
        AccessRecord.current().model(models.qualified(model, caller));
        PretrainedModel pretrained = models.pretrained();
        int[] prompt = kind == Kind.CHAT ? Prompts.chat(body, pretrained, model) : Prompts.completion(body, pretrained);
        GenerationParams params = GenerationParams.parse(body, maxTokensLimit, kind == Kind.CHAT,
                pretrained.model().config().vocabSize());
        String echo = params.echo() ? Prompts.completionText(body, prompt, pretrained) : "";
        int maxTokens = budget(prompt.length, view.contextLength(), params.maxTokens());
        long arrival = AccessRecord.current().arrival();
        TokenRelay relay = new TokenRelay(arrival, arrival + timeout.toNanos(), timeout, metrics);
        Generator.Request request = new Generator(view, pretrained.tokenizer(), pretrained.eosIds()).generate()
                .promptIds(prompt).maxTokens(maxTokens).sampling(params.sampling())
                .stop(params.stops().toArray(String[]::new)).stopTokenIds(params.stopTokenIds())
                .ignoreEos(params.ignoreEos()).minTokens(params.minTokens()).onToken(relay::piece);
        if (params.topLogprobs() != null) {
            request.logprobs(params.topLogprobs(), relay::logprob);
            if (params.echo()) {
                request.promptLogprobs(params.topLogprobs(), lps -> relay.prompt(echo, lps));
            }
        }
        Call call = new Call("cmpl-" + UUID.randomUUID().toString().replace("-", ""),
                System.currentTimeMillis() / 1000, model);
        ContinuousBatcher.Submission submission = submit(request);
        submission.result().whenComplete((r, e) -> relay.end());
        try {
            if (params.stream()) {
                boolean echoNow = params.echo() && params.topLogprobs() == null;
                stream(call, submission, relay, params.includeUsage(), echoNow ? echo : null, res);
            } else {
                GenerationResult r = finished(submission, relay);
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                res.send(json.writeValueAsBytes(whole(call, r, echo)));
            }
        } finally {
            submission.cancel();
        }
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
     * Waits for the generation until the request's deadline and notes its token counts for the access log and the
     * metrics.
     *
     * @throws ApiException 504 past the deadline, or what failed the generation
     */
    private GenerationResult finished(ContinuousBatcher.Submission submission, TokenRelay relay) {
        GenerationResult r;
        try {
            r = submission.result().get(Math.max(0, relay.deadline() - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw relay.timedOut();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.internal(e);
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        } catch (CancellationException e) {
            throw failure(e);
        }
        AccessRecord.current().tokens(r.promptTokens(), r.tokenIds().length);
        metrics.generated(r.tokenIds().length);
        metrics.generationTook(System.nanoTime() - relay.arrival());
        return r;
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

    /** The whole answer; a completion's text (and log-probabilities, if asked for) start with {@code echo}. */
    private Object whole(Call call, GenerationResult r, String echo) {
        String finish = finishReason(r);
        Usage usage = Usage.of(r.promptTokens(), r.tokenIds().length);
        return switch (kind) {
            case TEXT -> new Completion(call.id, "text_completion", call.created, call.model,
                    List.of(new CompletionChoice(0, echo + r.text(), logprobs.completion(r.promptLogprobs(),
                            r.logprobs(), echo.length()), finish)), usage);
            case CHAT -> chatCompletion(call, r, finish, usage);
        };
    }

    private Object chatCompletion(Call call, GenerationResult r, String finish, Usage usage) {
        return new OpenAiShapes.ChatCompletion(call.id, "chat.completion", call.created, call.model,
                List.of(new ChatChoice(0, new AssistantMessage("assistant", r.text()), logprobs.chat(r.logprobs()),
                        finish)), usage);
    }

    /**
     * Streams the answer as it is generated; {@code echo}, if not null, is sent first (an echoed prompt with
     * log-probabilities comes from the relay instead, once the prompt has run).
     */
    private void stream(Call call, ContinuousBatcher.Submission submission, TokenRelay relay, boolean includeUsage,
                        String echo, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        try (OutputStream out = res.outputStream()) {
            SseStream sse = new SseStream(json, out);
            if (kind == Kind.CHAT) {
                sse.send(chatChunk(call, new Delta("assistant", ""), null, null));
            }
            int offset = 0;
            if (echo != null) {
                sse.send(chunk(call, echo, new TokenRelay.Piece(echo, List.of()), 0, null));
                offset = echo.length();
            }
            TokenRelay.Piece piece;
            while ((piece = relay.next()) != null) {
                sse.send(chunk(call, piece.text(), piece, offset, null));
                offset += piece.text().length();
            }
            if (relay.expired()) {
                sse.send(relay.timedOut().body());
                sse.done();
                return;
            }
            GenerationResult r;
            try {
                r = finished(submission, relay);
            } catch (ApiException e) {
                sse.send(e.body());
                sse.done();
                return;
            }
            TokenRelay.Piece rest = relay.rest();
            sse.send(chunk(call, kind == Kind.CHAT ? null : "", rest, offset, finishReason(r)));
            if (includeUsage) {
                Usage usage = Usage.of(r.promptTokens(), r.tokenIds().length);
                sse.send(switch (kind) {
                    case TEXT -> new Completion(call.id, "text_completion", call.created, call.model, List.of(), usage);
                    case CHAT -> new ChatChunk(call.id, "chat.completion.chunk", call.created, call.model, List.of(),
                            usage);
                });
            }
            sse.done();
        } catch (SseStream.ClientGone | IOException e) {
            // the client went away: the caller cancels its generation, and there is no one to answer
        }
    }

    /** A stream chunk with {@code text} and the log-probabilities of {@code piece}'s tokens (if asked for). */
    private Object chunk(Call call, String text, TokenRelay.Piece piece, int offset, String finish) {
        return switch (kind) {
            case TEXT -> new Completion(call.id, "text_completion", call.created, call.model,
                    List.of(new CompletionChoice(0, text, logprobs.completion(piece.logprobs(), offset), finish)),
                    null);
            case CHAT -> chatChunk(call, new Delta(null, text), logprobs.chat(piece.logprobs()), finish);
        };
    }

    private static ChatChunk chatChunk(Call call, Delta delta, Object logprobs, String finish) {
        return new ChatChunk(call.id, "chat.completion.chunk", call.created, call.model,
                List.of(new ChunkChoice(0, delta, logprobs, finish)), null);
    }

    private static String finishReason(GenerationResult r) {
        return r.finishReason().name().toLowerCase();
    }

    /** What every chunk of one answer repeats. */
    private record Call(String id, long created, String model) {
    }
}
