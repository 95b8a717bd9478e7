package dev.tailor.generate;

import java.util.Map;

/**
 * How the next token is chosen, with the meanings (and processing order) of Hugging Face
 * {@code generate}: repetition penalty, then temperature, top-k, top-p and min-p, then a seeded draw; before them,
 * the OpenAI API's logit bias, presence and frequency penalties (as vLLM applies them: the bias first, the two
 * penalties over the generated tokens only, after the repetition penalty).
 *
 * @param temperature       divides the logits; 0 means greedy (argmax, lowest id on ties)
 * @param topK              keep the k most likely tokens (and any tied with the k-th); 0 disables
 * @param topP              keep the smallest set of most likely tokens whose probability sums to at least p; 1
 *                          disables
 * @param minP              drop tokens whose probability is below {@code minP · p_max}; 0 disables
 * @param repetitionPenalty for every id already seen, a positive logit is divided by it and a negative one
 *                          multiplied; 1 disables
 * @param seed              seeds the random generator: the same seed gives the same tokens
 * @param presencePenalty   subtracted from the logit of every id generated at least once, in [-2, 2]; 0 disables
 * @param frequencyPenalty  subtracted from an id's logit once per time it was generated, in [-2, 2]; 0 disables
 * @param logitBias         added to the logits of the ids it maps (each bias in [-100, 100]); empty disables
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             long seed, float presencePenalty, float frequencyPenalty, Map<Integer, Float> logitBias) {

    /** Plain sampling from the model's distribution (temperature 1, no filters, no penalty), seed 0. */
    public static final SamplingParams DEFAULT = new SamplingParams(1f, 0, 1f, 0f, 1f, 0L);

    /** Always the most likely token. */
    public static final SamplingParams GREEDY = DEFAULT.withTemperature(0f);

    /** Checks every parameter's range. */
    public SamplingParams {
        if (!(temperature >= 0 && Float.isFinite(temperature))) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 disables), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1] (1 disables), got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("minP must be in [0, 1] (0 disables), got " + minP);
        }
        if (!(repetitionPenalty > 0 && Float.isFinite(repetitionPenalty))) {
            throw new IllegalArgumentException("repetitionPenalty must be a finite number > 0 (1 disables), got "
                    + repetitionPenalty);
        }
        checkPenalty("presencePenalty", presencePenalty);
        checkPenalty("frequencyPenalty", frequencyPenalty);
        logitBias = Map.copyOf(logitBias);
        logitBias.forEach((id, bias) -> {
            if (id < 0) {
                throw new IllegalArgumentException("logitBias has a negative token id, " + id);
            }
            if (!(bias >= -100 && bias <= 100)) {
                throw new IllegalArgumentException("logitBias for token " + id + " must be in [-100, 100], got "
                        + bias);
            }
        });
    }

    /** The Hugging Face parameters alone: no presence or frequency penalty, no logit bias. */
    public SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty, long seed) {
        this(temperature, topK, topP, minP, repetitionPenalty, seed, 0f, 0f, Map.of());
    }

    private static void checkPenalty(String name, float value) {
        if (!(value >= -2 && value <= 2)) {
            throw new IllegalArgumentException(name + " must be in [-2, 2] (0 disables), got " + value);
        }
    }

    /** Whether the next token is the argmax rather than a draw. */
    public boolean greedy() {
        return temperature == 0f;
    }

    /** A copy with another temperature. */
    public SamplingParams withTemperature(float value) {
        return new SamplingParams(value, topK, topP, minP, repetitionPenalty, seed, presencePenalty, frequencyPenalty,
                logitBias);
    }

    /** A copy with another top-k. */
    public SamplingParams withTopK(int value) {
        return new SamplingParams(temperature, value, topP, minP, repetitionPenalty, seed, presencePenalty,
                frequencyPenalty, logitBias);
    }

    /** A copy with another top-p. */
    public SamplingParams withTopP(float value) {
        return new SamplingParams(temperature, topK, value, minP, repetitionPenalty, seed, presencePenalty,
                frequencyPenalty, logitBias);
    }

    /** A copy with another min-p. */
    public SamplingParams withMinP(float value) {
        return new SamplingParams(temperature, topK, topP, value, repetitionPenalty, seed, presencePenalty,
                frequencyPenalty, logitBias);
    }

    /** A copy with another repetition penalty. */
    public SamplingParams withRepetitionPenalty(float value) {
        return new SamplingParams(temperature, topK, topP, minP, value, seed, presencePenalty, frequencyPenalty,
                logitBias);
    }

    /** A copy with another seed. */
    public SamplingParams withSeed(long value) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, value, presencePenalty,
                frequencyPenalty, logitBias);
    }

    /** A copy with other presence and frequency penalties. */
    public SamplingParams withPenalties(float presence, float frequency) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, presence, frequency,
                logitBias);
    }

    /** A copy with another logit bias. */
    public SamplingParams withLogitBias(Map<Integer, Float> value) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, presencePenalty,
                frequencyPenalty, value);
    }
}
