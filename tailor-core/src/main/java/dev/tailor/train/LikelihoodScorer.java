package dev.tailor.train;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.KvCache;
import dev.tailor.model.LlamaModel;
import dev.tailor.train.data.ClassificationScorer;

import java.util.Arrays;

/**
 * Log-likelihoods of completions after a prompt, with the prompt's keys and values computed once and reused for
 * every candidate completion (the KV cache is truncated back to the prompt between candidates).
 */
public final class LikelihoodScorer implements ClassificationScorer.LogLikelihood {
    private final LlamaModel model;
    private KvCache cache;
    private int[] cachedPrompt = new int[0];
    private float[] promptLogits;

    /** A scorer over {@code model}. */
    public LikelihoodScorer(LlamaModel model) {
        this.model = model;
    }

    @Override
    public double score(int[] promptIds, int[] completionIds) {
        int context = model.contextLength();
        int total = promptIds.length + completionIds.length;
        if (total > context) {
            throw new IllegalArgumentException("prompt and completion of " + total + " tokens exceed the context of "
                    + context);
        }
        if (!Arrays.equals(promptIds, cachedPrompt)) {
            cache = model.newCache(context);
            promptLogits = model.prefill(cache, promptIds);
            cachedPrompt = promptIds.clone();
        } else {
            cache.truncate(promptIds.length);
        }
        int vocab = model.config().vocabSize();
        double ll = -CausalLmLoss.nll(promptLogits, 0, vocab, completionIds[0]);
        if (completionIds.length > 1) {
            float[] hidden = model.forward(cache, completionIds);
            float[] logits = model.logits(hidden, 0, completionIds.length - 1);
            for (int k = 1; k < completionIds.length; k++) {
                ll -= CausalLmLoss.nll(logits, (k - 1) * vocab, vocab, completionIds[k]);
            }
        }
        return ll;
    }
}
