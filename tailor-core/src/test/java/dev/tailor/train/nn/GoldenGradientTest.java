package dev.tailor.train.nn;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every gradient of full fine-tuning against the independent PyTorch implementation's. */
class GoldenGradientTest {

    @Test
    void everyGradientMatchesGolden() throws Exception {
        checkGradients(false);
    }

    @Test
    void gradientCheckpointingGivesTheSameGradients() throws Exception {
        checkGradients(true);
    }

    private void checkGradients(boolean checkpointing) throws Exception {
        Path modelDir = Shared.require("models/tiny-llama");
        double goldenLoss = new ObjectMapper().readTree(Shared.require("golden/tiny-llama/forward.json").toFile())
                .get("loss").asDouble();
        try (LlamaModel base = LlamaModel.load(modelDir);
             SafetensorsFile g = SafetensorsFile.open(Shared.require("golden/tiny-llama/forward.safetensors"));
             SafetensorsFile grads = SafetensorsFile.open(Shared.require("golden/tiny-llama/full_grads.safetensors"))) {
            TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), name -> true);
            model.setGradientCheckpointing(checkpointing);
            assertEquals(grads.names().size(), model.parameters().size());
            CausalLmLoss.Total total = GoldenTensors.step(model, GoldenTensors.batch(g));
            assertEquals(goldenLoss, total.mean(), 1e-5);
            for (Parameter p : model.parameters()) {
                double err = GoldenTensors.relativeError(p.grad(), grads, p.name());
                assertTrue(err <= 1e-3, p.name() + ": relative error " + err);
            }
        }
    }
}
