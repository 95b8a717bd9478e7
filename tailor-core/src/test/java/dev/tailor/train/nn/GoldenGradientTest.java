package dev.tailor.train.nn;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.train.Parameter;
import dev.tailor.train.data.PackedSequence;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every gradient of full fine-tuning against the independent PyTorch implementation's. */
class GoldenGradientTest {

    static List<PackedSequence> goldenBatch(SafetensorsFile g) {
        int[][] ids = GoldenTensors.longs(g, "ids");
        int[][] labels = GoldenTensors.longs(g, "labels");
        List<PackedSequence> seqs = new ArrayList<>();
        for (int b = 0; b < ids.length; b++) {
            int n = ids[b].length;
            int[] positions = new int[n];
            for (int t = 0; t < n; t++) {
                positions[t] = t;
            }
            seqs.add(new PackedSequence(ids[b], labels[b], positions, new int[n]));
        }
        return seqs;
    }

    static CausalLmLoss.Total step(TrainableLlama model, List<PackedSequence> batch) {
        long count = 0;
        for (PackedSequence s : batch) {
            for (int t = 1; t < s.length(); t++) {
                count += s.labels()[t] != CausalLmLoss.IGNORE_INDEX ? 1 : 0;
            }
        }
        CausalLmLoss.Total total = new CausalLmLoss.Total(0, 0);
        for (PackedSequence s : batch) {
            total = total.plus(model.forwardBackward(s, 1f / count));
        }
        return total;
    }

    /** max |a − b| / max |b| over the tensor. */
    static double relativeError(float[] actual, SafetensorsFile ref, String name) {
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
            CausalLmLoss.Total total = step(model, goldenBatch(g));
            assertEquals(goldenLoss, total.mean(), 1e-5);
            for (Parameter p : model.parameters()) {
                double err = relativeError(p.grad(), grads, p.name());
                assertTrue(err <= 1e-3, p.name() + ": relative error " + err);
            }
        }
    }
}
