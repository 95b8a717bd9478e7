package dev.tailor.train.nn;

import dev.tailor.Shared;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.adapt.prefix.PrefixTuningModel;
import dev.tailor.adapt.prefix.PrefixTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningModel;
import dev.tailor.adapt.prompt.PromptTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningInit;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One {@link TrainableLlama} kept across sequences of different lengths (its buffers sized for the longest, reused by
 * the shorter) gives exactly the losses, gradients and logits of a fresh model per sequence: nothing a longer
 * sequence left in the buffers leaks into a shorter one.
 */
class WorkspaceReuseTest {
    /** Lengths in mixed order: growing, shrinking, equal to an earlier one. */
    private static final int[] LENGTHS = {7, 15, 4, 15, 10, 4, 12};
    private static LlamaModel base;

    @BeforeAll
    static void open() {
        base = LlamaModel.load(Shared.require("models/tiny-llama"));
    }

    @AfterAll
    static void close() {
        if (base != null) {
            base.close();
        }
    }

    /** A fresh adapter of {@code method} (always the same values) or none. */
    private static AdapterSites sites(String method) {
        return switch (method) {
            case "prompt" -> PromptTuningModel.create(PromptTuningConfig.forModel(base.config(), 3,
                    PromptTuningInit.RANDOM, null, null), null, null, 17).sites();
            case "prefix" -> PrefixTuningModel.create(PrefixTuningConfig.forModel(base.config(), 3), 17).sites();
            case "partial" -> AdapterSites.NONE;
            default -> throw new IllegalArgumentException(method);
        };
    }

    /** Without an adapter, some base tensors are trained (the backward then reaches layer 0 too). */
    private static Predicate<String> trainable(String method) {
        return method.equals("partial")
                ? name -> name.equals("model.layers.0.mlp.up_proj.weight") || name.equals("model.norm.weight")
                : name -> false;
    }

    private static TrainableLlama fresh(String method, boolean checkpointing) {
        TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), trainable(method), sites(method));
        model.setGradientCheckpointing(checkpointing);
        return model;
    }

    /** A packed sequence of {@code n} tokens cut into random segments, some labels ignored. */
    private static PackedSequence sequence(int n, SplittableRandom rnd) {
        int[] tokens = rnd.ints(n, 3, 32000).toArray();
        int[] labels = tokens.clone();
        int[] positions = new int[n];
        int[] starts = new int[n];
        int start = 0;
        for (int t = 0; t < n; t++) {
            if (t > 0 && rnd.nextInt(4) == 0) {
                start = t;
            }
            starts[t] = start;
            positions[t] = t - start;
            if (t == start || rnd.nextInt(5) == 0) {
                labels[t] = CausalLmLoss.IGNORE_INDEX;
            }
        }
        labels[n - 1] = tokens[n - 1];
        return new PackedSequence(tokens, labels, positions, starts);
    }

    /** The loss and every parameter's gradient after one forward-backward from zero gradients. */
    private record Pass(CausalLmLoss.Total total, List<float[]> grads) {
    }

    private static Pass pass(TrainableLlama model, PackedSequence seq) {
        for (Parameter p : model.parameters()) {
            p.zeroGrad();
        }
        CausalLmLoss.Total total = model.forwardBackward(seq, 0.5f);
        List<float[]> grads = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            grads.add(p.grad().clone());
        }
        return new Pass(total, grads);
    }

    @ParameterizedTest
    @CsvSource({"prompt, false", "prompt, true", "prefix, false", "prefix, true", "partial, false",
            "partial, true"})
    void reusedModelEqualsFreshModelPerSequence(String method, boolean checkpointing) {
        TrainableLlama kept = fresh(method, checkpointing);
        SplittableRandom rnd = new SplittableRandom(23);
        for (int n : LENGTHS) {
            PackedSequence seq = sequence(n, rnd);
            Pass reused = pass(kept, seq);
            Pass alone = pass(fresh(method, checkpointing), seq);
            assertTrue(alone.total().tokens() > 0, "length " + n + " carries a loss");
            assertEquals(alone.total(), reused.total(), "loss at length " + n);
            assertEquals(alone.grads().size(), reused.grads().size());
            for (int i = 0; i < alone.grads().size(); i++) {
                assertArrayEquals(alone.grads().get(i), reused.grads().get(i),
                        kept.parameters().get(i).name() + " at length " + n);
            }
            assertEquals(fresh(method, checkpointing).loss(seq), kept.loss(seq), "eval loss at length " + n);
            assertArrayEquals(fresh(method, checkpointing).logits(seq), kept.logits(seq), "logits at length " + n);
        }
    }
}
