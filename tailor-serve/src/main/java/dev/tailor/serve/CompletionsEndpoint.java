package dev.tailor.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.generate.GenerationResult;
import dev.tailor.generate.Generator;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;
import dev.tailor.serve.OpenAiShapes.AssistantMessage;
import dev.tailor.serve.OpenAiShapes.ChatChoice;
import dev.tailor.serve.OpenAiShapes.ChatChunk;
import dev.tailor.serve.OpenAiShapes.ChatCompletion;
import dev.tailor.serve.OpenAiShapes.ChunkChoice;
import dev.tailor.serve.OpenAiShapes.Completion;
import dev.tailor.serve.OpenAiShapes.CompletionChoice;
import dev.tailor.serve.OpenAiShapes.Delta;
import dev.tailor.serve.OpenAiShapes.Usage;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;

import java.io.OutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: resolves the model, encodes the prompt, checks
 * it against the context and the token limit, generates (one generation at a time, {@link GenerationGate}) and
 * answers with one JSON body or, with {@code "stream": true}, server-sent events. A request past the server's
 * request timeout is stopped: a 504, or a stream that ends with an error event and {@code data: [DONE]}.
 */
final class CompletionsEndpoint {
    /** Which of the two endpoints. */
    enum Kind { TEXT, CHAT }

    private final Kind kind;
    private final ServedModels models;
    private final GenerationGate gate;
    private final ObjectMapper json;
    private final int maxTokensLimit;
    private final Duration timeout;
    private final ServerMetrics metrics;

    CompletionsEndpoint(Kind kind, ServedModels models, GenerationGate gate, ObjectMapper json, ServerOptions options,
                        ServerMetrics metrics) {
        this.kind = kind;
        this.models = models;
        this.gate = gate;
        this.json = json;
        this.maxTokensLimit = options.maxTokensLimit();
        this.timeout = options.requestTimeout();
        this.metrics = metrics;
    }

    /** Answers one request. */
    void handle(RequestBody body, ServerResponse res) throws IOException {
        String model = body.requiredString("model");
        LlamaModel view = models.resolve(model, Caller.current(), body.string("user"));
        AccessRecord.current().model(model);
        PretrainedModel pretrained = models.pretrained();
        int[] prompt = kind == Kind.CHAT ? Prompts.chat(body, pretrained, model) : Prompts.completion(body, pretrained);
        GenerationParams params = GenerationParams.parse(body, maxTokensLimit);
        int maxTokens = budget(prompt.length, view.contextLength(), params.maxTokens());
        Generator.Request request = new Generator(view, pretrained.tokenizer(), pretrained.eosIds()).generate()
                .promptIds(prompt).maxTokens(maxTokens).sampling(params.sampling())
                .stop(params.stops().toArray(String[]::new));
        Call call = new Call("cmpl-" + UUID.randomUUID().toString().replace("-", ""),
                System.currentTimeMillis() / 1000, model);
        Pieces pieces = new Pieces(AccessRecord.current().arrival());
        try (GenerationGate.Place place = gate.queue()) {
            if (params.stream()) {
                stream(call, place, request, pieces, params.includeUsage(), res);
            } else {
                GenerationResult r = generate(place, request.onToken(pieces), pieces);
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                res.send(json.writeValueAsBytes(whole(call, r)));
            }
        }
    }

    /** Generates in turn, noting the token counts for the access log and the metrics. */
    private GenerationResult generate(GenerationGate.Place place, Generator.Request request, Pieces pieces) {
        GenerationResult r = place.run(pieces.deadline, timeout, request::run);
        AccessRecord.current().tokens(r.promptTokens(), r.tokenIds().length);
        metrics.generated(r.tokenIds().length);
        return r;
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

    private Object whole(Call call, GenerationResult r) {
        String finish = finishReason(r);
        Usage usage = Usage.of(r.promptTokens(), r.tokenIds().length);
        return switch (kind) {
            case TEXT -> new Completion(call.id, "text_completion", call.created, call.model,
                    List.of(new CompletionChoice(0, r.text(), null, finish)), usage);
            case CHAT -> new ChatCompletion(call.id, "chat.completion", call.created, call.model,
                    List.of(new ChatChoice(0, new AssistantMessage("assistant", r.text()), null, finish)), usage);
        };
    }

    private void stream(Call call, GenerationGate.Place place, Generator.Request request, Pieces pieces,
                        boolean includeUsage, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        try (OutputStream out = res.outputStream()) {
            SseStream sse = new SseStream(json, out);
            if (kind == Kind.CHAT) {
                sse.send(chatChunk(call, new Delta("assistant", ""), null));
            }
            GenerationResult r;
            try {
                pieces.then(piece -> sse.send(chunk(call, piece, null)));
                r = generate(place, request.onToken(pieces), pieces);
            } catch (SseStream.ClientGone e) {
                return;
            } catch (ApiException e) {
                sse.send(e.body());
                sse.done();
                return;
            } catch (RuntimeException e) {
                sse.send(ApiException.internal(e).body());
                sse.done();
                return;
            }
            sse.send(chunk(call, kind == Kind.CHAT ? null : "", finishReason(r)));
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
            // the client went away: its generation has stopped and there is no one to answer
        }
    }

    private Object chunk(Call call, String piece, String finish) {
        return switch (kind) {
            case TEXT -> new Completion(call.id, "text_completion", call.created, call.model,
                    List.of(new CompletionChoice(0, piece, null, finish)), null);
            case CHAT -> chatChunk(call, new Delta(null, piece), finish);
        };
    }

    private static ChatChunk chatChunk(Call call, Delta delta, String finish) {
        return new ChatChunk(call.id, "chat.completion.chunk", call.created, call.model,
                List.of(new ChunkChoice(0, delta, null, finish)), null);
    }

    private static String finishReason(GenerationResult r) {
        return r.finishReason().name().toLowerCase();
    }

    /**
     * Watches the pieces of text of one generation as they come: times them for the metrics, stops the generation
     * (504) once past the request's deadline, and passes each on.
     */
    private final class Pieces implements Consumer<String> {
        private final long arrival;
        private final long deadline;
        private Consumer<String> next = piece -> { };
        private boolean started;
        private long last;

        Pieces(long arrival) {
            this.arrival = arrival;
            this.deadline = arrival + timeout.toNanos();
        }

        /** Passes each piece on to {@code consumer}. */
        void then(Consumer<String> consumer) {
            next = consumer;
        }

        @Override
        public void accept(String piece) {
            long now = System.nanoTime();
            if (now - deadline > 0) {
                throw ApiException.timedOut("generated for " + (now - arrival) / 1_000_000 + " ms", timeout);
            }
            if (!started) {
                started = true;
                metrics.firstToken(now - arrival);
            } else {
                metrics.interToken(now - last);
            }
            last = now;
            next.accept(piece);
        }
    }

    /** What every chunk of one answer repeats. */
    private record Call(String id, long created, String model) {
    }
}
