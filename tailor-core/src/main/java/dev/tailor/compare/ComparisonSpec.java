package dev.tailor.compare;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.cost.CostBase;
import dev.tailor.cost.HardwareProfile;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A comparison: every method trained on one base, one data set, one step budget and one seed.
 *
 * @param model      the base model's directory
 * @param modelName  how adapters record the base ({@code base_model_name_or_path}): the path or repo id as given
 * @param trainData  the training data (JSON Lines, any training format)
 * @param evalData   held-out data in the same format, or null to hold out a tenth of {@code trainData}
 * @param methods    the methods, in the order they run and are reported
 * @param steps      optimizer updates per method
 * @param seqLen     tokens per packed sequence
 * @param batchSize  sequences per update
 * @param seed       seeds the data order, the held-out split and fresh adapters
 * @param output     the comparison's directory: {@code runs/<method>/} for each method
 * @param machine    the profile the cost model predicts each run on: this machine's ({@code this-machine})
 * @param runtime    the Java runtime's own memory in a training process on this machine, which the predicted peak
 *                   memory adds
 * @param projection the machine and model the methods are also priced on, or null
 */
public record ComparisonSpec(Path model, String modelName, Path trainData, Path evalData, List<MethodSpec> methods,
                             int steps, int seqLen, int batchSize, long seed, Path output, HardwareProfile machine,
                             RuntimeBaseline runtime, Projection projection) {

    /**
     * Checks the budget and that no method appears twice.
     *
     * @throws InvalidOptionException naming the option whose value cannot be used
     */
    public ComparisonSpec {
        methods = List.copyOf(methods);
        if (methods.isEmpty()) {
            throw new InvalidOptionException("methods", "methods must name at least one method");
        }
        Set<String> seen = new HashSet<>();
        for (MethodSpec m : methods) {
            if (!seen.add(m.name())) {
                throw new InvalidOptionException("methods", "methods names " + m.name() + " twice");
            }
        }
        atLeastOne("steps", steps);
        atLeastOne("seq_len", seqLen);
        atLeastOne("batch_size", batchSize);
        if (machine == null) {
            throw new InvalidOptionException("hardware", "a hardware profile to predict on is needed");
        }
        if (runtime == null) {
            throw new IllegalArgumentException("the Java runtime's own memory (a RuntimeBaseline) is needed to predict "
                    + "peak memory");
        }
    }

    /** The tokens each method trains on: every update's packed sequences. */
    public long tokens() {
        return (long) steps * batchSize * seqLen;
    }

    /** Where method {@code name} runs: {@code output/runs/name}. */
    public Path runDir(String name) {
        return output.resolve("runs").resolve(name);
    }

    private static void atLeastOne(String option, long value) {
        if (value < 1) {
            throw new InvalidOptionException(option, option + " must be at least 1, got " + value);
        }
    }

    /**
     * Another machine and model to price the same methods on ("this on an H100 with an 8B model").
     *
     * @param hardware the machine
     * @param base     the model (its config alone)
     * @param tokens   the training tokens priced
     */
    public record Projection(HardwareProfile hardware, CostBase base, long tokens) {
    }
}
