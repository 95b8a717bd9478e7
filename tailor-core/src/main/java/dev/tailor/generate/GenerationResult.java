package dev.tailor.generate;

import java.util.List;

/**
 * The outcome of one generation.
 *
 * @param text            the generated text (stop string excluded)
 * @param tokenIds        the generated ids (EOS excluded)
 * @param promptTokens    tokens in the prompt
 * @param finishReason    why it ended
 * @param prefillSeconds  time to process the prompt
 * @param decodeSeconds   time to generate after the first token
 * @param logprobs        per generated token, its log-probability and the top alternatives, when they were asked
 *                        for; else empty
 * @param promptLogprobs  per prompt token, its log-probability given the tokens before it and the top alternatives
 *                        (the first token's unscored: {@link TokenLogprob#scored()} false), when they were asked for;
 *                        else empty
 */
public record GenerationResult(String text, int[] tokenIds, int promptTokens, FinishReason finishReason,
                               double prefillSeconds, double decodeSeconds, List<TokenLogprob> logprobs,
                               List<TokenLogprob> promptLogprobs) {

    /** Prompt tokens processed per second. */
    public double prefillTokensPerSecond() {
        return prefillSeconds > 0 ? promptTokens / prefillSeconds : 0;
    }

    /** Tokens generated per second after the first (each costs one decode step). */
    public double decodeTokensPerSecond() {
        int decoded = Math.max(0, tokenIds.length - 1);
        return decodeSeconds > 0 ? decoded / decodeSeconds : 0;
    }
}
