package dev.tailor.demo;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a demo run made and measured: its steps, the models, their scores and the side-by-side answers; what the
 * report shows and what the command line serves.
 *
 * @param settings        the size it ran at
 * @param output          the output directory
 * @param model           the model's shape and size, in words
 * @param steps           every step, in order
 * @param domainModel     the domain model's directory: the base the clients' adapters are trained on and served with
 * @param clientAdapters  each client's LoRA adapter, by client id
 * @param updatedAdapter  the first client's second adapter, trained on its updated facts
 * @param scores          every model's accuracy
 * @param sideBySide      the same questions answered by the base, the domain model and every client's model
 * @param seconds         the run's wall time so far
 * @param cpuSeconds      the processor time this run has used so far, on every core
 */
public record DemoResult(DemoSettings settings, Path output, String model, List<Step> steps, Path domainModel,
                         Map<String, Path> clientAdapters, Path updatedAdapter, List<ModelScore> scores,
                         List<SideBySide> sideBySide, double seconds, double cpuSeconds) {

    /** Copies the collections, keeping the maps' order. */
    public DemoResult {
        steps = List.copyOf(steps);
        clientAdapters = ordered(clientAdapters);
        scores = List.copyOf(scores);
        sideBySide = List.copyOf(sideBySide);
    }

    /**
     * One step of the run.
     *
     * @param name      its name ({@code base}, {@code adapters/kestrel})
     * @param what      what it did, in words
     * @param seconds   how long it took when it ran
     * @param cpuSeconds the processor time it took then, on every core
     * @param reused    whether this run reused it
     * @param trainLoss the last training loss, or NaN (not a training step)
     * @param evalLoss  the held-out loss, or NaN
     * @param bytes     the bytes of the model or adapter it saved (0 when none)
     */
    public record Step(String name, String what, double seconds, double cpuSeconds, boolean reused, double trainLoss,
                       double evalLoss, long bytes) {
    }

    /**
     * One model's answers scored.
     *
     * @param model    its name ({@code base}, {@code domain}, {@code kestrel}, {@code kestrel/full})
     * @param method   how it was made ({@code pre-training}, {@code full fine-tune}, {@code lora} …)
     * @param client   the client it was made for, or null
     * @param accuracy its accuracy on each client's held-out questions, by client id (the updated client's as
     *                 {@code kestrel-v2})
     * @param domain   its accuracy on the domain's held-out questions
     * @param tone     the share of its answers to its client's questions opened in the client's tone (NaN without
     *                 a client)
     * @param answers  its answer to every question asked, by question
     */
    public record ModelScore(String model, String method, String client, Map<String, Double> accuracy, double domain,
                             double tone, Map<String, String> answers) {
        /** Copies the maps, keeping their order. */
        public ModelScore {
            accuracy = ordered(accuracy);
            answers = ordered(answers);
        }
    }

    /**
     * One question and every model's answer to it.
     *
     * @param question the question
     * @param facts    the right fact for each client, by client id
     * @param answers  each model's answer, by model name, in the order shown
     */
    public record SideBySide(String question, Map<String, String> facts, Map<String, String> answers) {
        /** Copies the maps, keeping their order. */
        public SideBySide {
            facts = ordered(facts);
            answers = ordered(answers);
        }
    }

    private static <V> Map<String, V> ordered(Map<String, V> map) {
        return Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    /** The score of {@code model}, or null. */
    public ModelScore score(String model) {
        return scores.stream().filter(s -> s.model().equals(model)).findFirst().orElse(null);
    }
}
