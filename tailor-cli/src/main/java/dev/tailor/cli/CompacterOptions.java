package dev.tailor.cli;

import dev.tailor.adapt.compacter.CompacterArchitecture;
import dev.tailor.adapt.compacter.CompacterSettings;
import picocli.CommandLine.Option;

/**
 * The Compacter options of {@code tailor train} ({@code --method compacter} / {@code compacter++}), named after
 * AdapterHub's config keys. The reduction factor is {@code train}'s shared {@code --reduction-factor}.
 */
public final class CompacterOptions {

    @Option(names = "--phm-dim", defaultValue = "4",
            description = "compacter: Kronecker terms n (phm_dim; rule matrices n x n) (default ${DEFAULT-VALUE})")
    int phmDim;

    @Option(names = "--phm-rank", defaultValue = "1",
            description = "compacter: rank of the factorised PHM weights (phm_rank) (default ${DEFAULT-VALUE})")
    int phmRank;

    /** The settings for {@code method} ({@code compacter} or {@code compacter++}); null reduction factor = 32. */
    public CompacterSettings settings(String method, Integer reductionFactor) {
        return new CompacterSettings(CompacterArchitecture.parse(method),
                reductionFactor == null ? CompacterSettings.DEFAULT_REDUCTION_FACTOR : reductionFactor, phmDim, phmRank);
    }
}
