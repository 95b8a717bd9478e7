package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.generate.SamplingParams;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The generation fields shared by completions and chat completions.
 *
 * @param maxTokens    {@code max_tokens} (or chat's {@code max_completion_tokens}), or null for the server's limit;
 *                     0 only with {@code echo} (the prompt scored, nothing generated)
 * @param sampling     {@code temperature}, {@code top_p}, {@code seed}, {@code presence_penalty},
 *                     {@code frequency_penalty}, {@code logit_bias} and the extensions {@code top_k}, {@code min_p},
 *                     {@code repetition_penalty}
 * @param stops        {@code stop}: a string or a list of strings
 * @param stream       {@code stream}: answer as server-sent events
 * @param includeUsage {@code stream_options.include_usage}: a last chunk with the token counts
 * @param topLogprobs  how many likely alternatives to report with each token's log-probability, or null for no
 *                     log-probabilities: chat's {@code logprobs: true} with {@code top_logprobs} (0 to 20),
 *                     completions' {@code logprobs} (0 to 5)
 * @param echo         completions' {@code echo}: the answer's text (and log-probabilities) start with the prompt's
 * @param stopTokenIds vLLM's {@code stop_token_ids}: ids that end the generation as an end-of-sequence token does
 * @param ignoreEos    vLLM's {@code ignore_eos}: the model's end-of-sequence tokens do not end it (for benchmarks)
 * @param minTokens    vLLM's {@code min_tokens}: tokens generated before an end-of-sequence or stop token id may be
 * @param n            choices per prompt, each drawn with the seed plus its number (1 to {@link #MAX_CHOICES})
 */
record GenerationParams(Integer maxTokens, SamplingParams sampling, List<String> stops, boolean stream,
                        boolean includeUsage, Integer topLogprobs, boolean echo, int[] stopTokenIds,
                        boolean ignoreEos, int minTokens, int n) {
    /** Choices one request may ask for at most, over all its prompts: each is a generation in the batch. */
    static final int MAX_CHOICES = 64;

    /**
     * Reads the fields of {@code body} (a chat request's when {@code chat}), refusing (400) a wrong type, a value out
     * of range, a token id outside the model's {@code vocab}, {@code n} out of range, a {@code max_tokens} above
     * {@code maxTokensLimit}, and a field of the OpenAI API this server does not serve when it asks for more than
     * its neutral value ({@link UnservedFields}), rather than answering as if it had not been sent.
     */
    static GenerationParams parse(RequestBody body, int maxTokensLimit, boolean chat, int vocab) {
        UnservedFields.refuse(body, chat);
        int n = body.integer("n", 1);
        if (n < 1 || n > MAX_CHOICES) {
            throw ApiException.badRequest("n", "'n' must be in [1, " + MAX_CHOICES + "], got " + n);
        }
        boolean echo = !chat && body.bool("echo", false);
        Integer maxTokens = body.integer("max_tokens", body.integer("max_completion_tokens", null));
        int least = echo ? 0 : 1;
        if (maxTokens != null && (maxTokens < least || maxTokens > maxTokensLimit)) {
            throw ApiException.badRequest("max_tokens", "'max_tokens' must be in [" + least + ", " + maxTokensLimit
                    + "] (this server's limit" + (echo ? "" : "; 0 only with 'echo'") + "), got " + maxTokens);
        }
        SamplingParams sampling;
        try {
            sampling = new SamplingParams(body.number("temperature", 1f), body.integer("top_k", 0),
                    body.number("top_p", 1f), body.number("min_p", 0f), body.number("repetition_penalty", 1f),
                    body.longInteger("seed", 0L), body.number("presence_penalty", 0f),
                    body.number("frequency_penalty", 0f), logitBias(body.node("logit_bias"), vocab));
        } catch (IllegalArgumentException e) {
            throw samplingField(e.getMessage());
        }
        List<String> stops = body.strings("stop");
        if (stops.stream().anyMatch(String::isEmpty)) {
            throw ApiException.badRequest("stop", "'stop' strings must not be empty");
        }
        boolean stream = body.bool("stream", false);
        boolean includeUsage = false;
        var options = body.node("stream_options");
        if (options != null) {
            if (!options.isObject()) {
                throw RequestBody.wrongType("stream_options", "an object", options);
            }
            var include = options.get("include_usage");
            if (include != null && !include.isNull() && !include.isBoolean()) {
                throw RequestBody.wrongType("stream_options.include_usage", "true or false", include);
            }
            includeUsage = include != null && include.asBoolean();
        }
        int minTokens = body.integer("min_tokens", 0);
        if (minTokens < 0 || (maxTokens != null && minTokens > maxTokens)) {
            throw ApiException.badRequest("min_tokens", "'min_tokens' must be in [0, max_tokens], got " + minTokens);
        }
        return new GenerationParams(maxTokens, sampling, stops, stream, includeUsage, topLogprobs(body, chat), echo,
                tokenIds(body.node("stop_token_ids"), vocab), body.bool("ignore_eos", false), minTokens, n);
    }

    /** vLLM's {@code stop_token_ids}: a list of token ids; null or absent is none. */
    private static int[] tokenIds(JsonNode node, int vocab) {
        return node == null || node.isNull() ? new int[0]
                : RequestBody.tokenIds(node, "stop_token_ids", "stop_token_ids", vocab);
    }

    /** {@code logit_bias}: an object from token ids (as strings, the JSON way) to biases; null or absent is none. */
    private static Map<Integer, Float> logitBias(JsonNode node, int vocab) {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw RequestBody.wrongType("logit_bias", "an object from token ids to biases", node);
        }
        Map<Integer, Float> bias = new HashMap<>();
        for (var field : node.properties()) {
            int id;
            try {
                id = Integer.parseInt(field.getKey());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("logit_bias", "'logit_bias' keys are token ids, got '" + field.getKey()
                        + "'");
            }
            if (id < 0 || id >= vocab) {
                throw ApiException.badRequest("logit_bias", "'logit_bias' names token id " + id + ", outside this "
                        + "model's vocabulary [0, " + vocab + ")");
            }
            if (!field.getValue().isNumber()) {
                throw RequestBody.wrongType("logit_bias." + id, "a number", field.getValue());
            }
            bias.put(id, field.getValue().floatValue());
        }
        return bias;
    }

    /** The alternatives asked for with the log-probabilities, as each endpoint spells it; null for none. */
    private static Integer topLogprobs(RequestBody body, boolean chat) {
        if (!chat) {
            Integer top = body.integer("logprobs", null);
            if (top != null && (top < 0 || top > 5)) {
                throw ApiException.badRequest("logprobs", "'logprobs' must be in [0, 5], got " + top);
            }
            return top;
        }
        Integer top = body.integer("top_logprobs", null);
        if (!body.bool("logprobs", false)) {
            if (top != null) {
                throw ApiException.badRequest("top_logprobs", "'top_logprobs' needs 'logprobs': true");
            }
            return null;
        }
        if (top != null && (top < 0 || top > 20)) {
            throw ApiException.badRequest("top_logprobs", "'top_logprobs' must be in [0, 20], got " + top);
        }
        return top == null ? 0 : top;
    }

    /** {@link SamplingParams}'s refusal, with the engine's parameter name spelt as the request's field. */
    private static ApiException samplingField(String message) {
        for (String[] names : new String[][] {{"temperature", "temperature"}, {"topK", "top_k"}, {"topP", "top_p"},
                {"minP", "min_p"}, {"repetitionPenalty", "repetition_penalty"}, {"presencePenalty", "presence_penalty"},
                {"frequencyPenalty", "frequency_penalty"}, {"logitBias", "logit_bias"}}) {
            if (message.startsWith(names[0] + " ")) {
                return ApiException.badRequest(names[1], "'" + names[1] + "'" + message.substring(names[0].length()));
            }
        }
        return ApiException.badRequest(null, message);
    }
}
