package dev.tailor.bench;

import dev.tailor.adapt.Adapter;
import dev.tailor.train.ProcessStats;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.ModelConfig;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.RandomInit;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.model.LlamaWeights;
import dev.tailor.train.nn.TrainableLlama;
import dev.tailor.train.optim.AdamW;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One training step as the PyTorch peer's {@code train} mode measures it: forward, cross-entropy, backward and an
 * AdamW step (lr 1e-4, no weight decay) over all parameters of a random model ({@code --lora 0}), or over an
 * adapter's ({@link TrainMethod}), on random tokens; the median step of {@code steps} after {@code warmup}.
 */
public final class TrainBench {
    private TrainBench() {
    }

    /**
     * Runs the benchmark; {@code gradientCheckpointing} recomputes block activations in backward; {@code method}
     * chooses an adapter, or for {@code full} {@code plan} chooses what of the base trains (full fine-tuning for the
     * peer's comparison, or a partial plan to measure the saving of stopping the backward at the lowest trainable
     * layer).
     */
    public static Map<String, Object> run(BenchShape shape, TrainMethod method, boolean gradientCheckpointing,
                                          FreezePlan plan) {
        ModelConfig config = shape.config();
        // a frozen base lives off-heap, as a memory-mapped checkpoint does; trained base weights are heap arrays
        LlamaWeights weights = method.baseTrains() ? RandomInit.weights(config, 0) : RandomModel.weights(shape, 0);
        Adapter adapter = method.create(config, weights, 2);
        TrainableLlama model = adapter == null
                ? TrainableLlama.create(config, weights, plan)
                : TrainableLlama.create(config, weights, name -> false, adapter.sites());
        model.setGradientCheckpointing(gradientCheckpointing);
        AdamW adamw = new AdamW(new AdamW.Config(0.9, 0.999, 1e-8, 0.0));
        List<PackedSequence> batch = randomBatch(shape);
        Stepper stepper = new Stepper(model, adamw, batch, (long) shape.batch() * (shape.seq() - 1));
        int warmupSteps = Warmup.run(shape.warmup(), stepper::step);
        List<Double> steps = new ArrayList<>();
        List<Double> optTimes = new ArrayList<>();
        for (int i = 0; i < shape.steps(); i++) {
            steps.add(stepper.step());
            optTimes.add(stepper.lastOptSeconds);
        }
        double median = InferenceBench.median(steps);
        long tokens = (long) shape.batch() * shape.seq();
        long trainable = model.parameters().stream().mapToLong(p -> p.size()).sum();
        double flops = stepFlops(shape, method.baseTrains());
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", "train");
        r.put("impl", "tailor");
        r.put("method", method.name());
        r.put("lora_r", method.loraRank());
        r.put("gradient_checkpointing", gradientCheckpointing);
        r.put("trained", adapter == null ? plan.describe() : adapter.describe());
        r.put("backward_stop_layer", model.stopLayer());
        r.put("layers", shape.layers());
        r.put("dim", shape.dim());
        r.put("seq", shape.seq());
        r.put("batch", shape.batch());
        r.put("params_total", shape.parameters());
        r.put("params_trainable", trainable);
        r.put("step_median_s", InferenceBench.round(median, 4));
        r.put("step_best_s", InferenceBench.round(steps.stream().mapToDouble(Double::doubleValue).min().orElse(0), 4));
        r.put("opt_median_s", InferenceBench.round(InferenceBench.median(optTimes), 4));
        r.put("tokens_per_s", InferenceBench.round(tokens / median, 1));
        r.put("gflops", InferenceBench.round(flops / median / 1e9, 1));
        r.put("loss_first", InferenceBench.round(stepper.firstLoss, 4));
        r.put("loss_last", InferenceBench.round(stepper.lastLoss, 4));
        r.put("warmup_steps", warmupSteps);
        r.put("steps_measured", steps.size());
        r.put("peak_rss_mib", InferenceBench.round(ProcessStats.peakRssMib(), 1));
        return r;
    }

    /**
     * Matrix-product FLOPs of one training step: per weight per token 2 for the forward and 2 for the input
     * gradient, plus 2 for the weight gradient when the base trains (the head counts, the embedding lookup does
     * not; an adapter's own products are ignored), plus attention's {@code QKᵀ} and {@code PV} (forward 4·T²·d per
     * layer, backward twice that).
     */
    static double stepFlops(BenchShape s, boolean baseTrains) {
        double tokens = (double) s.batch() * s.seq();
        long hd = s.dim() / s.heads();
        double linear = s.layers() * ((double) s.dim() * s.heads() * hd * 2 + (double) s.dim() * s.kvHeads() * hd * 2
                + 3.0 * s.dim() * s.ffn()) + (double) s.vocab() * s.dim();
        double attention = s.layers() * 12.0 * s.seq() * s.seq() * s.heads() * hd * s.batch();
        return (baseTrains ? 6 : 4) * linear * tokens + attention;
    }

    private static List<PackedSequence> randomBatch(BenchShape shape) {
        SplittableRandom rnd = new SplittableRandom(1);
        List<PackedSequence> batch = new ArrayList<>();
        for (int b = 0; b < shape.batch(); b++) {
            int[] tokens = rnd.ints(shape.seq(), 0, shape.vocab()).toArray();
            int[] labels = tokens.clone();
            labels[0] = CausalLmLoss.IGNORE_INDEX;
            int[] positions = new int[shape.seq()];
            for (int t = 0; t < positions.length; t++) {
                positions[t] = t;
            }
            batch.add(new PackedSequence(tokens, labels, positions, new int[shape.seq()]));
        }
        return batch;
    }

    /** One timed training step (forward, loss and backward of the batch, then AdamW), and what it saw. */
    private static final class Stepper {
        private final TrainableLlama model;
        private final AdamW adamw;
        private final List<PackedSequence> batch;
        private final long predicted;
        double firstLoss = Double.NaN;
        double lastLoss = Double.NaN;
        double lastOptSeconds;

        Stepper(TrainableLlama model, AdamW adamw, List<PackedSequence> batch, long predicted) {
            this.model = model;
            this.adamw = adamw;
            this.batch = batch;
            this.predicted = predicted;
        }

        /** Runs one step and returns its seconds. */
        double step() {
            long t0 = System.nanoTime();
            model.parameters().forEach(p -> p.zeroGrad());
            CausalLmLoss.Total loss = new CausalLmLoss.Total(0, 0);
            for (PackedSequence s : batch) {
                loss = loss.plus(model.forwardBackward(s, 1f / predicted));
            }
            long t1 = System.nanoTime();
            adamw.step(model.parameters(), 1e-4);
            long t2 = System.nanoTime();
            lastOptSeconds = (t2 - t1) / 1e9;
            lastLoss = loss.mean();
            if (Double.isNaN(firstLoss)) {
                firstLoss = lastLoss;
            }
            return (t2 - t0) / 1e9;
        }
    }
}
