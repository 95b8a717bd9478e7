package dev.tailor.adapt;

import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.tensor.Parameter;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Set;

/**
 * The size check a method makes on the options of a fresh adapter before it allocates anything: no tensor may hold
 * more values than a Java array can, and the whole adapter no more than {@value #BASE_MULTIPLE} times the base's own
 * parameters; an option that large (say {@code r 1073741824}) is a slip, and would otherwise end in an overflow or
 * an {@link OutOfMemoryError}. Sizes are counted in {@code double}, which no option can overflow. And the memory a
 * loaded adapter holds ({@link #bytes}), which a server counts against its adapter cache's budget.
 */
public final class AdapterSize {
    /** The most values one tensor may hold: the largest array a JVM allocates. */
    public static final long MAX_TENSOR = Integer.MAX_VALUE - 8;
    /** How many times the base's parameter count a fresh adapter may have. */
    public static final int BASE_MULTIPLE = 4;

    private AdapterSize() {
    }

    /**
     * Refuses an adapter of {@code parameters} values whose largest tensor holds {@code largestTensor} values, for
     * a base of {@code base}.
     *
     * @param option the option the message is about (the one that usually sets the size)
     * @param given  the options that set the size with their values, as the message shows them
     *               ({@code "r 1073741824"})
     * @throws InvalidOptionException naming {@code option} when the adapter would be too large
     */
    public static void check(String option, String given, double parameters, double largestTensor, ModelConfig base) {
        if (largestTensor > MAX_TENSOR) {
            throw new InvalidOptionException(option, given + " gives a tensor of " + count(largestTensor)
                    + " values, more than a tensor can hold (" + MAX_TENSOR + ")");
        }
        double baseParameters = parameters(base);
        if (parameters > BASE_MULTIPLE * baseParameters) {
            throw new InvalidOptionException(option, given + " gives an adapter of " + count(parameters)
                    + " parameters, more than " + BASE_MULTIPLE + " times the base model's " + count(baseParameters));
        }
    }

    /** The base's parameters: the embeddings (and the output head when untied), each block's projections and norms. */
    static double parameters(ModelConfig c) {
        double d = c.hiddenSize();
        double block = 2 * d * c.qDim() + 2 * d * c.kvDim() + 3 * d * c.intermediateSize() + 2 * d;
        return (c.tieWordEmbeddings() ? 1 : 2) * d * c.vocabSize() + c.numLayers() * block + d;
    }

    /**
     * The bytes {@code adapter}'s tensors hold in memory: every float32 array its sites reach (the pieces'
     * parameters, prompt tuning's embeddings, prefix tuning's prefix and any encoder), each counted once however many
     * sites share it, at 4 bytes a value, and what it holds beside them ({@link Adapter#heldBytes}).
     */
    public static long bytes(Adapter adapter) {
        AdapterSites sites = adapter.sites();
        Set<float[]> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        long bytes = adapter.heldBytes();
        for (Parameter p : sites.parameters()) {
            if (seen.add(p.data())) {
                bytes += (long) Float.BYTES * p.size();
            }
        }
        if (sites.prefix() != null && seen.add(sites.prefix().data())) {
            bytes += (long) Float.BYTES * sites.prefix().size();
        }
        return bytes;
    }

    private static String count(double n) {
        return String.format(Locale.ROOT, "%.0f", n);
    }
}
