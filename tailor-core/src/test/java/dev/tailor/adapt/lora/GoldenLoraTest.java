package dev.tailor.adapt.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.train.Parameter;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import dev.tailor.train.optim.AdamW;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PEFT LoRA golden adapter: logits, loss, gradients and five AdamW steps against PyTorch's. */
class GoldenLoraTest {

    private static List<PackedSequence> batch(SafetensorsFile g) {
        int[][] ids = GoldenTensors.longs(g, "ids");
        int[][] labels = GoldenTensors.longs(g, "labels");
        List<PackedSequence> out = new ArrayList<>();
        for (int b = 0; b < ids.length; b++) {
            int n = ids[b].length;
            int[] positions = new int[n];
            for (int t = 0; t < n; t++) {
                positions[t] = t;
            }
            out.add(new PackedSequence(ids[b], labels[b], positions, new int[n]));
        }
        return out;
    }

    private static CausalLmLoss.Total step(TrainableLlama model, List<PackedSequence> batch) {
        long count = 0;
        for (PackedSequence s : batch) {
            for (int t = 1; t < s.length(); t++) {
                count += s.labels()[t] != CausalLmLoss.IGNORE_INDEX ? 1 : 0;
            }
        }
        model.parameters().forEach(Parameter::zeroGrad);
        CausalLmLoss.Total total = new CausalLmLoss.Total(0, 0);
        for (PackedSequence s : batch) {
            total = total.plus(model.forwardBackward(s, 1f / count));
        }
        return total;
    }

    private static double relativeError(float[] actual, SafetensorsFile ref, String name) {
        var seg = ref.data(name);
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < actual.length; i++) {
            float e = seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            maxDiff = Math.max(maxDiff, Math.abs(e - actual[i]));
            maxRef = Math.max(maxRef, Math.abs(e));
        }
        return maxDiff / maxRef;
    }

    private static TrainableLlama withAdapter(LlamaModel base) {
        Map<String, LoraAdapter> adapters = PeftLoraAdapter.load(Shared.require("golden/tiny-llama/lora"));
        assertEquals(14, adapters.size());
        adapters.values().forEach(a -> assertEquals(2.0f, a.scale()));
        return TrainableLlama.create(base.config(), base.weights(), name -> false, adapters::get);
    }

    @Test
    void logitsLossAndGradientsMatchGolden() throws Exception {
        double goldenLoss = new ObjectMapper().readTree(Shared.require("golden/tiny-llama/lora.json").toFile())
                .get("loss").asDouble();
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"));
             SafetensorsFile g = SafetensorsFile.open(Shared.require("golden/tiny-llama/forward.safetensors"));
             SafetensorsFile logits = SafetensorsFile.open(Shared.require("golden/tiny-llama/lora_forward.safetensors"));
             SafetensorsFile grads = SafetensorsFile.open(Shared.require("golden/tiny-llama/lora_grads.safetensors"))) {
            TrainableLlama model = withAdapter(base);
            assertEquals(28, model.parameters().size());
            assertEquals(0, model.stopLayer());
            List<PackedSequence> batch = batch(g);
            var expected = logits.data("logits");
            int vocab = base.config().vocabSize();
            double maxErr = 0;
            for (int b = 0; b < batch.size(); b++) {
                float[] actual = model.logits(batch.get(b));
                long off = (long) b * actual.length;
                for (int i = 0; i < actual.length; i++) {
                    maxErr = Math.max(maxErr, Math.abs(expected.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, off + i)
                            - actual[i]));
                }
            }
            assertTrue(maxErr <= 1e-4, "max abs logit error " + maxErr + " over vocab " + vocab);
            assertEquals(goldenLoss, step(model, batch).mean(), 1e-5);
            for (Parameter p : model.parameters()) {
                double err = relativeError(p.grad(), grads, p.name());
                assertTrue(err <= 1e-3, p.name() + ": relative error " + err);
            }
        }
    }

    @Test
    void fiveAdamWStepsReproduceTheGoldenTrajectory() throws Exception {
        JsonNode adamw = new ObjectMapper().readTree(Shared.require("golden/tiny-llama/adamw.json").toFile());
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"));
             SafetensorsFile g = SafetensorsFile.open(Shared.require("golden/tiny-llama/forward.safetensors"));
             SafetensorsFile fin = SafetensorsFile.open(Shared.require("golden/tiny-llama/adamw_final.safetensors"))) {
            TrainableLlama model = withAdapter(base);
            AdamW optimizer = new AdamW(new AdamW.Config(adamw.get("betas").get(0).asDouble(),
                    adamw.get("betas").get(1).asDouble(), adamw.get("eps").asDouble(),
                    adamw.get("weight_decay").asDouble()));
            List<PackedSequence> batch = batch(g);
            for (int s = 0; s < adamw.get("steps").asInt(); s++) {
                double loss = step(model, batch).mean();
                assertEquals(adamw.get("losses_before_each_step").get(s).asDouble(), loss, 1e-5, "step " + s);
                optimizer.step(model.parameters(), adamw.get("lr").asDouble());
            }
            for (Parameter p : model.parameters()) {
                double err = relativeError(p.data(), fin, p.name());
                assertTrue(err <= 1e-4, p.name() + ": relative error " + err);
            }
        }
    }
}
