package dev.tailor.cli;

import dev.tailor.train.FreezePlan;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** The flags that say what {@code --method partial} trains, shared by the commands that train or price it. */
final class PartialPlanOptions {
    @Option(names = "--train-layers", description = "partial: layer range FROM-TO, e.g. 6-7")
    String trainLayers;
    @Option(names = "--train-modules", split = ",", description = "partial: module globs, e.g. mlp.*,self_attn.o_proj")
    List<String> trainModules = new ArrayList<>();
    @Option(names = "--bias-norm-only", description = "partial: train only norms and biases (BitFit)")
    boolean biasNormOnly;
    @Option(names = "--train-embeddings", description = "partial: also train the input embeddings")
    boolean trainEmbeddings;
    @Option(names = "--train-head", description = "partial: also train the final norm and lm_head")
    boolean trainHead;

    /** True when none of the flags was given. */
    boolean unset() {
        return trainLayers == null && trainModules.isEmpty() && !biasNormOnly && !trainEmbeddings && !trainHead;
    }

    /**
     * The plan the flags give.
     *
     * @throws dev.tailor.adapt.InvalidOptionException when they select nothing
     */
    FreezePlan plan() {
        return new FreezePlan(false, trainLayers == null ? null : FreezePlan.parseLayers(trainLayers), trainModules,
                biasNormOnly, trainEmbeddings, trainHead);
    }
}
