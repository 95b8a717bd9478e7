package dev.tailor.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.adapt.AdaptedModel;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.MethodVariant;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.LoadOptions;
import dev.tailor.model.site.LinearSite;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Parameter;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import dev.tailor.train.optim.Optimizer;
import dev.tailor.train.optim.OptimizerType;
import dev.tailor.train.optim.ScheduleType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Adapters on a quantized frozen base (QLoRA-style): every method's gradients on a Q8_0 or Q4_0 base, and on a GGUF
 * file's K-quant mix (Q4_K_M), are those on the F32 base holding the quantized values, a few steps on a Q4_0 base
 * lower the loss, and the adapter a run saves on a base quantized at load applies to the full-precision base.
 */
class QuantizedBaseTrainingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<MethodVariant> variants() {
        return MethodVariant.all();
    }

    /** {@code w} with every matrix widened to F32 from {@code arena} (the quantized values exactly). */
    private static LlamaWeights dequantized(LlamaWeights w, Arena arena) {
        List<LayerWeights> layers = new ArrayList<>();
        for (LayerWeights l : w.layers()) {
            WeightMatrix[] linears = new WeightMatrix[LinearSite.values().length];
            float[][] biases = new float[LinearSite.values().length][];
            for (LinearSite s : LinearSite.values()) {
                linears[s.ordinal()] = l.linear(s).dequantize(arena);
                biases[s.ordinal()] = l.bias(s);
            }
            layers.add(l.withLinears(linears, biases));
        }
        WeightMatrix embed = w.embed().dequantize(arena);
        return new LlamaWeights(embed, layers, w.finalNorm(),
                w.lmHead() == w.embed() ? embed : w.lmHead().dequantize(arena));
    }

    private static PackedSequence sequence(int n, long seed) {
        int[] tokens = new SplittableRandom(seed).ints(n, 3, 32000).toArray();
        int[] starts = new int[n];
        int[] positions = new int[n];
        for (int t = 0; t < n; t++) {
            positions[t] = t;
        }
        return new PackedSequence(tokens, tokens.clone(), positions, starts);
    }

    /** The loss and each trainable tensor's gradient of one forward-backward of a fresh adapter. */
    private static List<float[]> gradients(MethodVariant variant, LlamaModel base, LlamaWeights weights,
                                           PackedSequence seq, double[] loss) {
        Adapter adapter = variant.create(new AdapterBase(base.config(), weights, null, "tiny"), Map.of(), 7);
        for (Parameter p : adapter.parameters()) {
            SplittableRandom rnd = new SplittableRandom(p.name().hashCode());
            for (int i = 0; i < p.size(); i++) {
                p.data()[i] += (float) (rnd.nextDouble(-0.1, 0.1));
            }
        }
        TrainableLlama model = TrainableLlama.create(base.config(), weights, name -> false, adapter.sites());
        model.parameters().forEach(Parameter::zeroGrad);
        CausalLmLoss.Total total = model.forwardBackward(seq, 1f);
        loss[0] = total.mean();
        return model.parameters().stream().map(p -> p.grad().clone()).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void gradientsOnAQuantizedBaseAreThoseOnItsDequantizedValues(MethodVariant variant) {
        Path hf = Shared.require("models/tiny-llama");
        Path kQuants = Shared.require("models/tiny-llama-256-gguf/tiny-llama-256-q4_k_m.gguf");
        PackedSequence seq = sequence(12, 5);
        for (String type : List.of("Q8_0", "Q4_0", "Q4_K")) {
            boolean gguf = type.equals("Q4_K");
            try (LlamaModel base = gguf ? LlamaModel.load(kQuants) : LlamaModel.load(hf, LoadOptions.quantized(type));
                 Arena arena = Arena.ofShared()) {
                assertEquals(DType.valueOf(type), base.weights().layers().get(0).q().dtype());
                double[] quantizedLoss = new double[1];
                double[] floatLoss = new double[1];
                List<float[]> q = gradients(variant, base, base.weights(), seq, quantizedLoss);
                List<float[]> f = gradients(variant, base, dequantized(base.weights(), arena), seq, floatLoss);
                assertEquals(floatLoss[0], quantizedLoss[0], 1e-5 * Math.abs(floatLoss[0]), variant + " " + type);
                assertEquals(f.size(), q.size());
                for (int t = 0; t < f.size(); t++) {
                    double scale = 0;
                    for (float g : f.get(t)) {
                        scale = Math.max(scale, Math.abs(g));
                    }
                    assertTrue(scale > 0, variant + " " + type + ": tensor " + t + " has no gradient");
                    for (int i = 0; i < f.get(t).length; i++) {
                        assertEquals(f.get(t)[i], q.get(t)[i], 1e-4 * scale,
                                variant + " " + type + ": tensor " + t + " element " + i);
                    }
                }
            }
        }
    }

    @Test
    void loraStepsOnAQ4_0BaseLowerTheLoss() {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"), LoadOptions.quantized("Q4_0"))) {
            MethodVariant lora = MethodVariant.all().filter(v -> v.name().equals("lora")).findFirst().orElseThrow();
            Adapter adapter = lora.create(new AdapterBase(base.config(), base.weights(), null, "tiny"), Map.of(), 3);
            TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), name -> false,
                    adapter.sites());
            int[] pattern = {450, 4996, 17354, 1701};
            int[] tokens = new int[24];
            for (int t = 0; t < tokens.length; t++) {
                tokens[t] = pattern[t % pattern.length];
            }
            PackedSequence seq = new PackedSequence(tokens, tokens.clone(), positions(tokens.length),
                    new int[tokens.length]);
            double before = model.loss(seq).mean();
            Optimizer adamw = OptimizerType.ADAMW.create(0);
            for (int step = 0; step < 8; step++) {
                model.parameters().forEach(Parameter::zeroGrad);
                model.forwardBackward(seq, 1f / model.countedLabels(seq));
                adamw.step(model.parameters(), 2e-2);
            }
            double after = model.loss(seq).mean();
            assertTrue(after < 0.9 * before, "8 AdamW steps: " + before + " -> " + after);
        }
    }

    private static int[] positions(int n) {
        int[] p = new int[n];
        for (int t = 0; t < n; t++) {
            p[t] = t;
        }
        return p;
    }

    /**
     * {@code tailor train}'s run on a base quantized at load to Q4_0 saves a normal adapter, with the base's own
     * fingerprint, that applies to the F32 base.
     */
    @Test
    void anAdapterTrainedOnAQuantizedBaseAppliesToTheFullPrecisionBase(@TempDir Path dir) throws IOException {
        Path hf = Shared.require("models/tiny-llama");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            lines.add(JSON.writeValueAsString(Map.of("prompt", "What is " + i + " plus one?",
                    "completion", " It is " + (i + 1) + ".")));
        }
        Path data = Files.write(dir.resolve("data.jsonl"), lines);
        Path out = dir.resolve("out");
        TrainingRun.Spec spec = new TrainingRun.Spec(
                new TrainingRun.Base.Pretrained(hf, "tiny-llama", LoadOptions.quantized("Q4_0")),
                new DataConfig(data, null, null, 0.25, 32, 2, 7, true, false),
                TrainingMethod.of("lora", null, Map.of("r", List.of("4"))),
                new TrainOptions(3, 0, 1, 1e-2, 0, ScheduleType.LINEAR, 0, 1, OptimizerType.ADAMW, 0, 0, 1, 1, false),
                out, null, false);
        Trainer.Summary summary = TrainingRun.run(spec, new PrintWriter(Writer.nullWriter()), false);
        assertTrue(Double.isFinite(summary.trainLoss()));
        String fingerprint = BaseFingerprint.compute(hf);
        assertEquals(fingerprint, AdapterFiles.baseFingerprint(out), "the F32 base's identity");
        try (LlamaModel f32 = LlamaModel.load(hf)) {
            AdaptedModel adapted = new AdaptedModel(f32, fingerprint);
            adapted.add("qlora", out);
            adapted.set("qlora");
            int[] prompt = {1, 1724, 338, 29871};
            LlamaModel view = adapted.model();
            float[] logits = view.prefill(view.newCache(4), prompt);
            assertTrue(Float.isFinite(logits[0]));
        }
    }
}
