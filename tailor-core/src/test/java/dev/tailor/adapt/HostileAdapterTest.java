package dev.tailor.adapt;

import dev.tailor.Hostile;
import dev.tailor.Shared;
import dev.tailor.adapt.bottleneck.Architecture;
import dev.tailor.adapt.bottleneck.BottleneckConfig;
import dev.tailor.adapt.bottleneck.BottleneckModel;
import dev.tailor.adapt.compacter.CompacterArchitecture;
import dev.tailor.adapt.compacter.CompacterConfig;
import dev.tailor.adapt.compacter.CompacterModel;
import dev.tailor.adapt.ia3.Ia3Config;
import dev.tailor.adapt.ia3.Ia3Model;
import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.adapt.prefix.PrefixTuningConfig;
import dev.tailor.adapt.prefix.PrefixTuningModel;
import dev.tailor.adapt.prompt.PromptTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningInit;
import dev.tailor.adapt.prompt.PromptTuningModel;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile adapter directories: the configs of the corpus ({@code hostile/adapter/}) over tensors of the tiny model's
 * shapes, and tensors with non-finite values, are refused with the file and the key or tensor named, for every
 * method, instead of the config being ignored or NaN flowing into a loss.
 */
class HostileAdapterTest {
    private static final String WEIGHTS = "adapter_model.safetensors";

    @TempDir
    Path dir;

    private static ModelConfig tiny() {
        return ModelConfig.load(Shared.require("models/tiny-llama"));
    }

    /** PEFT's own LoRA tensors (rank 4 on every linear of both layers) under the corpus config {@code name}. */
    private Path peftLoraWith(String name) throws Exception {
        Files.copy(Shared.require("golden/tiny-llama/lora").resolve(WEIGHTS), dir.resolve(WEIGHTS));
        Hostile.copy("adapter/" + name, dir, "adapter_config.json");
        return dir;
    }

    /** {@code adapter} saved to {@code dir}, then its config replaced by the corpus config {@code name}. */
    private Path savedWith(Adapter adapter, String name) {
        adapter.save(dir, "tiny-llama", null);
        Hostile.copy("adapter/" + name, dir, "adapter_config.json");
        return dir;
    }

    private static void assertRefused(Class<? extends Exception> type, Path file, Path adapter, String... fragments) {
        Exception e = assertThrows(type, () -> AdapterFiles.load(adapter));
        assertTrue(e.getMessage().startsWith(file + ": "), "names the file " + file + ": " + e.getMessage());
        assertEquals(-1, e.getMessage().indexOf(file.toString(), 1), "names the file once: " + e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "mentions '" + fragment + "': " + e.getMessage());
        }
    }

    private void configRefused(Path adapter, String... fragments) {
        assertRefused(IllegalArgumentException.class, adapter.resolve("adapter_config.json"), adapter, fragments);
    }

    @Test
    void loraRankOfTheWrongTypeIsRefused() throws Exception {
        configRefused(peftLoraWith("lora-r-string.json"), "r must be an integer ≥ 1, got \"four\"");
    }

    @Test
    void loraRankContradictingTheTensorsIsRefused() throws Exception {
        configRefused(peftLoraWith("lora-r-contradicts-tensors.json"), "r 8 contradicts",
                "lora_A.weight of rank 4");
    }

    @Test
    void loraAlphaOfTheWrongTypeIsRefused() throws Exception {
        configRefused(peftLoraWith("lora-alpha-string.json"), "lora_alpha must be a finite number, got \"x\"");
    }

    @Test
    void loraTargetModulesOfTheWrongTypeIsRefused() throws Exception {
        configRefused(peftLoraWith("lora-target-modules-number.json"),
                "target_modules must be a non-empty list of strings, got 5");
    }

    @Test
    void emptyLoraTargetModulesAreRefused() throws Exception {
        configRefused(peftLoraWith("lora-target-modules-empty.json"),
                "target_modules must be a non-empty list of strings, got []");
    }

    @Test
    void loraTargetModulesThatSelectNoneOfTheTensorsAreRefused() throws Exception {
        configRefused(peftLoraWith("lora-target-modules-nothing.json"),
                "target_modules [nothing] does not select model.layers.0.");
    }

    @Test
    void layersToTransformThatLeaveOutTheTensorsAreRefused() throws Exception {
        configRefused(peftLoraWith("lora-layers-to-transform-99.json"),
                "layers_to_transform [99] does not include layer 0 of model.layers.0.");
    }

    @Test
    void patternsOfTheWrongTypeAreRefused() throws Exception {
        configRefused(peftLoraWith("lora-rank-pattern-string.json"),
                "rank_pattern[\"q_proj\"] must be an integer ≥ 1, got \"x\"");
        Hostile.copy("adapter/lora-alpha-pattern-string.json", dir, "adapter_config.json");
        configRefused(dir, "alpha_pattern[\"q_proj\"] must be a finite number, got \"x\"");
    }

    @Test
    void patternKeysThatAreNoRegularExpressionAreRefused() throws Exception {
        // found by bench fuzz: the key reached Pattern.compile unchecked, and its PatternSyntaxException named no file
        configRefused(peftLoraWith("lora-alpha-pattern-not-a-regex.json"),
                "alpha_pattern[\"+q_proj\"] is not a regular expression: Dangling meta character '+'");
        Hostile.copy("adapter/lora-rank-pattern-not-a-regex.json", dir, "adapter_config.json");
        configRefused(dir, "rank_pattern[\"q_proj(\"] is not a regular expression: Unclosed group");
    }

    @Test
    void aLoraFlagOfTheWrongTypeIsRefused() throws Exception {
        configRefused(peftLoraWith("lora-use-dora-string.json"), "use_dora must be true or false, got \"no\"");
    }

    @Test
    void ia3TargetsOfTheWrongTypeOrSelectingNothingAreRefused() {
        ModelConfig c = tiny();
        configRefused(savedWith(Ia3Model.create(Ia3Config.defaults(null, null), c, 1),
                "ia3-target-modules-number.json"), "target_modules must be a non-empty list of strings, got 5");
        Hostile.copy("adapter/ia3-target-modules-nothing.json", dir, "adapter_config.json");
        configRefused(dir, "target_modules [nothing] does not select model.layers.0.");
        Hostile.copy("adapter/ia3-feedforward-modules-number.json", dir, "adapter_config.json");
        configRefused(dir, "feedforward_modules must be a list of strings, got 5");
    }

    @Test
    void bottleneckKeysOfTheWrongTypeAreRefused() {
        ModelConfig c = tiny();
        configRefused(savedWith(BottleneckModel.create(BottleneckConfig.defaults(Architecture.DOUBLE_SEQ_BN, 16.0,
                null), c, 1), "bottleneck-reduction-factor-string.json"),
                "reduction_factor must be a finite number, got \"16\"");
        Hostile.copy("adapter/bottleneck-non-linearity-number.json", dir, "adapter_config.json");
        configRefused(dir, "non_linearity must be a string, got 3");
    }

    @Test
    void bottleneckTensorsOfALayerTheConfigDoesNotHaveAreRefused() {
        Path adapter = savedWith(BottleneckModel.create(BottleneckConfig.defaults(Architecture.DOUBLE_SEQ_BN, 16.0,
                null), tiny(), 1), "bottleneck-fewer-layers-than-tensors.json");
        assertRefused(TensorFormatException.class, adapter.resolve(WEIGHTS), adapter, "num_layers 1",
                "does not account for", "layers.1.");
    }

    @Test
    void compacterKeysOfTheWrongTypeAndExtraLayersAreRefused() {
        Path adapter = savedWith(CompacterModel.create(new CompacterConfig(CompacterArchitecture.parse("compacter"),
                16, 4, 1), tiny(), 1), "compacter-phm-dim-string.json");
        configRefused(adapter, "phm_dim must be a positive integer, got \"4\"");
        Hostile.copy("adapter/compacter-fewer-layers-than-tensors.json", dir, "adapter_config.json");
        assertRefused(TensorFormatException.class, adapter.resolve(WEIGHTS), adapter, "num_layers 1",
                "does not account for", "layers.1.");
    }

    @Test
    void prefixTuningKeysOfTheWrongTypeAreRefused() {
        Path adapter = savedWith(PrefixTuningModel.create(PrefixTuningConfig.forModel(tiny(), 5), 1),
                "prefix-num-virtual-tokens-string.json");
        configRefused(adapter, "num_virtual_tokens must be an integer ≥ 1, got \"5\"");
        Hostile.copy("adapter/prefix-projection-string.json", dir, "adapter_config.json");
        configRefused(adapter, "prefix_projection must be true or false, got \"false\"");
    }

    @Test
    void anUnknownPromptTuningInitIsRefusedNamingTheFile() {
        Path adapter = savedWith(PromptTuningModel.create(PromptTuningConfig.forModel(tiny(), 5,
                PromptTuningInit.RANDOM, null, "tiny-llama"), null, null, 1), "prompt-tuning-init-unknown.json");
        configRefused(adapter, "prompt_tuning_init must be RANDOM or TEXT, got SAMPLED");
    }

    @Test
    void anUnknownPeftTypeIsRefusedBeforeAnythingIsLogged() throws Exception {
        Path adapter = peftLoraWith("peft-type-unknown.json");
        List<String> logged;
        try (LogCapture log = LogCapture.of(AdapterFiles.class)) {
            configRefused(adapter, "peft_type \"NOT_A_METHOD\" is not one Tailor reads");
            logged = log.messages();
        }
        assertEquals(List.of(), logged);
    }

    @Test
    void nonFiniteValuesAreRefusedNamingTheTensorForEveryMethod() {
        ModelConfig c = tiny();
        List<Adapter> adapters = List.of(
                LoraModel.create(new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj"), false, null), c, 1),
                Ia3Model.create(Ia3Config.defaults(null, null), c, 1),
                BottleneckModel.create(BottleneckConfig.defaults(Architecture.DOUBLE_SEQ_BN, 16.0, null), c, 1),
                CompacterModel.create(new CompacterConfig(CompacterArchitecture.parse("compacter"), 16, 4, 1), c, 1),
                PrefixTuningModel.create(PrefixTuningConfig.forModel(c, 5), 1));
        for (Adapter a : adapters) {
            Path out = dir.resolve(a.type());
            a.save(out, "tiny-llama", null);
            String poisoned = poison(out.resolve(WEIGHTS), a.type().equals("LORA") ? "lora_B" : "");
            assertRefused(TensorFormatException.class, out.resolve(WEIGHTS), out, "tensor " + poisoned,
                    "non-finite value (NaN) at element 1");
        }
    }

    /** Rewrites {@code file} with NaN at element 1 of the last tensor whose name contains {@code part}; its name. */
    private static String poison(Path file, String part) {
        SafetensorsWriter out = new SafetensorsWriter();
        String poisoned = null;
        try (SafetensorsFile in = SafetensorsFile.open(file)) {
            for (String name : in.names()) {
                if (name.contains(part)) {
                    poisoned = name;
                }
            }
            for (String name : in.names()) {
                TensorInfo info = in.info(name);
                float[] v = new float[Math.toIntExact(info.elementCount())];
                for (int i = 0; i < v.length; i++) {
                    v[i] = Numerics.load(in.data(name), info.dtype(), i);
                }
                if (name.equals(poisoned)) {
                    v[1] = Float.NaN;
                }
                out.add(name, DType.F32, info.shape(), v);
            }
        }
        out.write(file);
        return poisoned;
    }
}
