package dev.tailor.adapt.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import dev.tailor.train.optim.AdamW;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PEFT LoRA golden adapter: logits, loss, gradients and five AdamW steps against PyTorch's. */
class GoldenLoraTest {

    private static TrainableLlama withAdapter(LlamaModel base) {
        Map<String, LoraLayer> adapters = LoraFiles.load(Shared.require("golden/tiny-llama/lora"));
        assertEquals(14, adapters.size());
        adapters.values().forEach(a -> assertEquals(2.0f, a.scale()));
        return TrainableLlama.create(base.config(), base.weights(), name -> false, AdapterSites.ofLinear(adapters));
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
            List<PackedSequence> batch = GoldenTensors.batch(g);
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
            assertEquals(goldenLoss, GoldenTensors.step(model, batch).mean(), 1e-5);
            for (Parameter p : model.parameters()) {
                double err = GoldenTensors.relativeError(p.grad(), grads, p.name());
                assertTrue(err <= 1e-3, p.name() + ": relative error " + err);
            }
        }
    }

    @Test
    void inferenceWithTheAdapterMatchesTheGoldenLogits() throws Exception {
        try (LlamaModel base = LlamaModel.load(Shared.require("models/tiny-llama"));
             SafetensorsFile g = SafetensorsFile.open(Shared.require("golden/tiny-llama/forward.safetensors"));
             SafetensorsFile logits = SafetensorsFile.open(Shared.require("golden/tiny-llama/lora_forward.safetensors"))) {
            LlamaModel adapted = base.withAdapters(List.of(AdapterSites.ofLinear(
                    LoraFiles.load(Shared.require("golden/tiny-llama/lora")))));
            var expected = logits.data("logits");
            List<PackedSequence> batch = GoldenTensors.batch(g);
            double maxErr = 0;
            double baseDiff = 0;
            for (int b = 0; b < batch.size(); b++) {
                int[] ids = batch.get(b).tokens();
                float[] actual = adapted.logits(adapted.forward(adapted.newCache(ids.length), ids), 0, ids.length);
                float[] plain = base.logits(base.forward(base.newCache(ids.length), ids), 0, ids.length);
                long off = (long) b * actual.length;
                for (int i = 0; i < actual.length; i++) {
                    float e = expected.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, off + i);
                    maxErr = Math.max(maxErr, Math.abs(e - actual[i]));
                    baseDiff = Math.max(baseDiff, Math.abs(e - plain[i]));
                }
            }
            assertTrue(maxErr <= 1e-4, "max abs logit error " + maxErr);
            assertTrue(baseDiff > 1e-2, "the base alone differs from the adapted golden: " + baseDiff);
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
            List<PackedSequence> batch = GoldenTensors.batch(g);
            for (int s = 0; s < adamw.get("steps").asInt(); s++) {
                double loss = GoldenTensors.step(model, batch).mean();
                assertEquals(adamw.get("losses_before_each_step").get(s).asDouble(), loss, 1e-5, "step " + s);
                optimizer.step(model.parameters(), adamw.get("lr").asDouble());
            }
            for (Parameter p : model.parameters()) {
                double err = GoldenTensors.relativeError(p.data(), fin, p.name());
                assertTrue(err <= 1e-4, p.name() + ": relative error " + err);
            }
        }
    }
}
