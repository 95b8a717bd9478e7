package dev.tailor.serve;

import java.util.List;
import java.util.Map;

/**
 * The response bodies of OpenAI's completions and chat completions, whole and as stream chunks. Field names are
 * written in snake case ({@code finish_reason}); null fields are written as {@code null}, as OpenAI does.
 */
public final class OpenAiShapes {
    private OpenAiShapes() {
    }

    /** Token counts of one request. */
    public record Usage(int promptTokens, int completionTokens, int totalTokens) {
        static Usage of(int prompt, int completion) {
            return new Usage(prompt, completion, prompt + completion);
        }
    }

    /** One choice of a completion (or of a completion chunk, with part of the text). */
    public record CompletionChoice(int index, String text, Object logprobs, String finishReason) {
    }

    /** {@code text_completion}: a whole completion, or one chunk of a stream. */
    public record Completion(String id, String object, long created, String model, List<CompletionChoice> choices,
                             Usage usage) {
    }

    /** A message the model wrote. */
    public record AssistantMessage(String role, String content) {
    }

    /** One choice of a chat completion. */
    public record ChatChoice(int index, AssistantMessage message, Object logprobs, String finishReason) {
    }

    /** {@code chat.completion}. */
    public record ChatCompletion(String id, String object, long created, String model, List<ChatChoice> choices,
                                 Usage usage) {
    }

    /** What a chat stream chunk adds to the message: the role in the first, text after. */
    public record Delta(String role, String content) {
    }

    /** One choice of a chat stream chunk. */
    public record ChunkChoice(int index, Delta delta, Object logprobs, String finishReason) {
    }

    /** {@code chat.completion.chunk}. */
    public record ChatChunk(String id, String object, long created, String model, List<ChunkChoice> choices,
                            Usage usage) {
    }

    /** Chat's {@code logprobs}: one entry per generated token. */
    public record ChatLogprobs(List<ChatTokenLogprob> content) {
    }

    /** One token's log-probability in a chat answer, with the most likely alternatives. */
    public record ChatTokenLogprob(String token, float logprob, List<Integer> bytes, List<TopLogprob> topLogprobs) {
    }

    /** One of the most likely tokens at a step. */
    public record TopLogprob(String token, float logprob, List<Integer> bytes) {
    }

    /** Completions' {@code logprobs}: parallel lists per generated token, as the legacy endpoint answers. */
    public record CompletionLogprobs(List<String> tokens, List<Float> tokenLogprobs,
                                     List<Map<String, Float>> topLogprobs, List<Integer> textOffset) {
    }
}
