package dev.tailor.serve.jobs;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a job trains and how it is rolled out, resolved when the job is created ({@code "auto"} replaced by a number).
 *
 * @param nEpochs                passes over the training file
 * @param batchSize              packed sequences per update
 * @param learningRateMultiplier the peak learning rate as a multiple of {@link #BASE_LEARNING_RATE}
 * @param method                 the adapter method's name ({@code lora}, {@code ia3} …)
 * @param options                its options by config name, as {@code tailor train}'s flags give them (each one's
 *                               texts: one value, or a list's items)
 * @param seqLen                 tokens per packed sequence
 * @param checkpointEvery        a checkpoint (a worker's resume point, and an evaluation with a validation file) every
 *                               this many updates, and after the last
 * @param canary                 the traffic share to give the new version beside {@code prod}, or null
 * @param promote                without {@code canary}: make the new version {@code prod} when it is the adapter's
 *                               first, or when its evaluation is no worse than {@code prod}'s on the validation file
 */
public record JobSettings(int nEpochs, int batchSize, double learningRateMultiplier, String method,
                          Map<String, List<String>> options, int seqLen, int checkpointEvery, Double canary,
                          boolean promote) {
    /** The learning rate of a multiplier of 1: LoRA's usual 2e-4. */
    public static final double BASE_LEARNING_RATE = 2e-4;

    /** Copies the options, in name order. */
    public JobSettings {
        options = new TreeMap<>(options);
        options.replaceAll((k, v) -> List.copyOf(v));
        options = Collections.unmodifiableMap(options);
    }

    /** The peak learning rate. */
    public double learningRate() {
        return BASE_LEARNING_RATE * learningRateMultiplier;
    }
}
