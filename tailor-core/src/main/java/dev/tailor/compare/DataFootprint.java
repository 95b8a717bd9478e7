package dev.tailor.compare;

import dev.tailor.cost.DatasetTokens;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.data.TrainingData;

import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.nio.file.Path;

/**
 * A comparison's data as a training process holds it, worked out before anything trains by loading it as the process
 * will (the base's tokenizer and chat template, the files read, encoded, split and packed): the share of the packed
 * tokens that carry a loss (the head computes logits only for those), and the heap the tokenizer and the loaded data
 * hold, measured as the live heap's growth across the loading (each side after a full collection).
 *
 * @param lossShare the share of the training sequences' tokens whose next label counts
 * @param heldBytes the heap the tokenizer and the loaded data hold
 */
public record DataFootprint(double lossShare, long heldBytes) {

    /**
     * Loads {@code data} with the tokenizer of {@code modelDir} and measures it.
     *
     * @throws IllegalArgumentException naming what is wrong with the data or the tokenizer
     */
    public static DataFootprint of(DataConfig data, Path modelDir) {
        long before = liveHeap();
        Tokenizer tokenizer = Tokenizers.load(modelDir);
        ChatTemplate template;
        try {
            template = ChatTemplate.load(modelDir);
        } catch (ChatTemplateException e) {
            template = null;
        }
        TrainingData loaded = TrainingData.load(data, tokenizer, template);
        long held = Math.max(0, liveHeap() - before);
        long tokens = 0;
        long counted = 0;
        for (PackedSequence s : loaded.train().packing().sequences()) {
            tokens += s.length();
            counted += DatasetTokens.lossRows(s);
        }
        Reference.reachabilityFence(loaded);
        Reference.reachabilityFence(tokenizer);
        return new DataFootprint(tokens == 0 ? 1 : Math.max(1e-9, (double) counted / tokens), held);
    }

    /** The heap in use after a full collection. */
    private static long liveHeap() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
