package dev.tailor.cli;

import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.adapt.ia3.Ia3Method;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.ia3.Ia3Layer;
import dev.tailor.adapt.ia3.Ia3Model;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tailor train --method ia3 --init-ia3-weights true|false}: PEFT's ones or {@code torch.randn} start. */
class Ia3InitWeightsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private final StringWriter err = new StringWriter();

    @Test
    void falseStartsFromStandardNormalVectorsSavesTheFlagAndChangesTheOutput() throws Exception {
        Path model = Shared.require("models/tiny-llama");
        Path recipe = dir.resolve("ia3.yaml");
        Files.writeString(recipe, "method: ia3\ninit_ia3_weights: false\nsteps: 2\nbatch_size: 2\nseq_len: 64\n"
                + "lr: 1e-6\n");
        Path out = dir.resolve("ia3");
        CommandLine cl = TailorCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));
        assertEquals(0, cl.execute("train", "--recipe", recipe.toString(), "--model", model.toString(), "--data",
                CliFixtures.mobyDick(dir).toString(), "--output", out.toString()), err.toString());

        JsonNode config = JSON.readTree(out.resolve("adapter_config.json").toFile());
        assertFalse(config.get("init_ia3_weights").asBoolean(true), config.toString());
        Ia3Model loaded = (Ia3Model) AdapterFiles.load(out);
        assertFalse(loaded.settings().initIa3Weights());
        // k_proj, v_proj [32] and down_proj [176 inputs] of 2 layers: 480 draws of N(0, 1), moved by 2 steps of 1e-6
        double sum = 0;
        double squares = 0;
        int n = 0;
        for (Ia3Layer a : loaded.modules().values()) {
            for (float v : a.vector().data()) {
                sum += v;
                squares += v * v;
                n++;
            }
        }
        assertEquals(480, n);
        double mean = sum / n;
        double sd = Math.sqrt(squares / n - mean * mean);
        assertEquals(0, mean, 0.2, "mean of a standard normal sample");
        assertEquals(1, sd, 0.15, "deviation of a standard normal sample");

        try (LlamaModel llama = LlamaModel.load(model)) {
            int[] tokens = {1, 450, 3287, 471, 263, 2217, 310, 278};
            int[] labels = {450, 3287, 471, 263, 2217, 310, 278, CausalLmLoss.IGNORE_INDEX};
            PackedSequence seq = new PackedSequence(tokens, labels, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, new int[8]);
            float[] base = TrainableLlama.create(llama.config(), llama.weights(), name -> false).logits(seq);
            float[] adapted = TrainableLlama.create(llama.config(), llama.weights(), name -> false, loaded.sites())
                    .logits(seq);
            double diff = 0;
            for (int i = 0; i < base.length; i++) {
                diff = Math.max(diff, Math.abs(base[i] - adapted[i]));
            }
            assertTrue(diff > 0.1, "random vectors change the output, max |Δlogit| = " + diff);
        }
    }

    @Test
    void theFlagTakesTrueOrFalseAndTheRecipeFormToo() throws Exception {
        Path model = Shared.require("models/tiny-llama");
        try (LlamaModel llama = LlamaModel.load(model)) {
            AdapterBase base = new AdapterBase(llama.config(), llama.weights(), null, null);
            Ia3Model ones = (Ia3Model) new Ia3Method().create("ia3",
                    TrainFlags.methodOptions("ia3", "--init-ia3-weights", "true"), base, 1);
            for (Ia3Layer a : ones.modules().values()) {
                for (float v : a.vector().data()) {
                    assertEquals(1f, v);
                }
            }
            Ia3Model byDefault = (Ia3Model) new Ia3Method().create("ia3", TrainFlags.methodOptions("ia3"), base, 1);
            assertTrue(byDefault.settings().initIa3Weights());
        }
        var bad = assertThrows(InvalidOptionException.class,
                () -> TrainFlags.methodOptions("ia3", "--init-ia3-weights", "maybe"));
        String shown = MethodFlags.spell(bad.getMessage(), bad.option());
        assertTrue(shown.contains("--init-ia3-weights") && shown.contains("maybe"), shown);

        Path recipe = dir.resolve("r.yaml");
        Files.writeString(recipe, "init_ia3_weights: true\nuse_rslora: true\nuse_dora: false\n");
        assertEquals(List.of("--init-ia3-weights=true", "--use-rslora"),
                Recipe.toArgs(recipe, new CommandLine(new TrainCommand()).getCommandSpec()));
    }
}
