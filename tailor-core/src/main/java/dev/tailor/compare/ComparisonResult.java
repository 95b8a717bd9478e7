package dev.tailor.compare;

import dev.tailor.cost.HardwareProfile;

import java.util.ArrayList;
import java.util.List;

/**
 * A finished comparison: its settings, the machine, every method's run, and the projection.
 *
 * @param settings    what was compared, on what
 * @param machine     the profile the predictions were made on (this machine, measured)
 * @param runs        the methods' runs, in order
 * @param projection  the methods priced on another machine and model, or null
 * @param environment where it ran
 */
public record ComparisonResult(Settings settings, HardwareProfile machine, List<MethodRun> runs,
                               ProjectionResult projection, Environment environment) {

    /**
     * The settings shared by every method.
     *
     * @param model          the base as given
     * @param baseParameters its parameters
     * @param layers         its blocks
     * @param hiddenSize     its hidden size
     * @param trainData      the training data
     * @param evalData       the held-out data, or null when a tenth of the training data was held out
     * @param steps          updates per method
     * @param seqLen         tokens per packed sequence
     * @param batchSize      sequences per update
     * @param seed           the seed
     */
    public record Settings(String model, long baseParameters, int layers, int hiddenSize, String trainData,
                           String evalData, int steps, int seqLen, int batchSize, long seed) {
    }

    /**
     * Where the comparison ran.
     *
     * @param processors the processors Java sees
     * @param java       the Java runtime's version
     * @param jvmOptions the options each method's process ran with
     * @param created    when the comparison finished (ISO-8601)
     */
    public record Environment(int processors, String java, List<String> jvmOptions, String created) {
    }

    /**
     * The methods priced by the cost model on another machine and model.
     *
     * @param hardware the machine
     * @param model    the model's name
     * @param modelParameters its parameters
     * @param tokens   the training tokens priced
     * @param methods  one per method of the comparison, in order
     */
    public record ProjectionResult(HardwareProfile hardware, String model, long modelParameters, long tokens,
                                   List<Projected> methods) {
    }

    /**
     * One method priced on the projection's machine and model.
     *
     * @param method              its name
     * @param trainableParameters the values it trains
     * @param memoryBytes         its training memory
     * @param fits                whether that fits the machine's memory
     * @param seconds             its training time
     * @param money               its price
     * @param artifactBytes       what it saves
     */
    public record Projected(String method, long trainableParameters, long memoryBytes, boolean fits, double seconds,
                            double money, long artifactBytes) {
    }

    /** Whether the data is classification, scored by accuracy (else by eval loss). */
    public boolean scoredByAccuracy() {
        return !runs.isEmpty() && runs.stream().allMatch(r -> Double.isFinite(r.evalAccuracy()));
    }

    /** A run's quality, higher is better: its accuracy, or minus its eval loss. */
    public double quality(MethodRun r) {
        return scoredByAccuracy() ? r.evalAccuracy() : -r.evalLoss();
    }

    /**
     * The methods on the Pareto front of quality against training time: those no other method beats on one while
     * matching or beating it on the other. In the order of the runs.
     */
    public List<String> paretoFront() {
        List<String> front = new ArrayList<>();
        for (MethodRun r : runs) {
            boolean dominated = false;
            for (MethodRun o : runs) {
                if (o == r) {
                    continue;
                }
                boolean noWorse = o.runSeconds() <= r.runSeconds() && quality(o) >= quality(r);
                boolean better = o.runSeconds() < r.runSeconds() || quality(o) > quality(r);
                dominated |= noWorse && better;
            }
            if (!dominated && Double.isFinite(quality(r))) {
                front.add(r.method());
            }
        }
        return front;
    }
}
