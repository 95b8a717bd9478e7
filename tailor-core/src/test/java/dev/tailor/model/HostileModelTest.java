package dev.tailor.model;

import dev.tailor.Hostile;
import dev.tailor.Shared;
import dev.tailor.io.ModelFiles;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile {@code config.json} files of the corpus ({@code hostile/config/}) and hostile checkpoints built from the
 * shared tiny model are refused with the file and the field or tensor named, instead of being loaded with a value
 * ignored or a layer dropped.
 */
class HostileModelTest {
    @TempDir
    Path dir;

    private void configRefused(String corpusFile, String... fragments) {
        Path file = Hostile.copy("config/" + corpusFile, dir, "config.json");
        ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.load(dir));
        assertNames(e, file, fragments);
    }

    private static void assertNames(Exception e, Path file, String... fragments) {
        assertTrue(e.getMessage().startsWith(file + ": "), "names the file " + file + ": " + e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "mentions '" + fragment + "': " + e.getMessage());
        }
    }

    @Test
    void aNegativeRopeScalingFactorIsRefused() {
        configRefused("rope-scaling-negative-factor.json", "field rope_scaling.factor", "> 0, got -2");
    }

    @Test
    void aLlama3OriginalContextOfZeroIsRefused() {
        configRefused("rope-scaling-llama3-zero-original-max.json",
                "field rope_scaling.original_max_position_embeddings", "positive integer, got 0");
    }

    @Test
    void ropeScalingThatIsNotAnObjectIsRefusedAsSuch() {
        configRefused("rope-scaling-string.json", "field rope_scaling must be an object or null, got \"garbage\"");
    }

    @Test
    void aStringWhereABooleanBelongsIsRefused() {
        configRefused("tie-word-embeddings-string.json", "field tie_word_embeddings must be true or false, got \"yes\"");
        configRefused("attention-bias-string.json", "field attention_bias must be true or false, got \"false\"");
    }

    @Test
    void trailingGarbageAfterTheConfigIsRefused() {
        configRefused("trailing-garbage.json", "not valid JSON", "Trailing token");
    }

    @Test
    void aNegativeRmsNormEpsilonIsRefused() {
        configRefused("rms-norm-eps-negative.json", "field rms_norm_eps must be a finite number > 0, got -1");
    }

    @Test
    void anInfiniteRopeThetaIsRefused() {
        configRefused("rope-theta-infinite.json", "field rope_theta must be a finite number > 0");
    }

    @Test
    void aTokenIdBeyondIntRangeIsRefusedRatherThanWrapped() {
        configRefused("bos-token-id-wraps.json", "field bos_token_id", "got 4294967297");
    }

    @Test
    void aConfigThatIsADirectoryIsSaidToBeOne() throws Exception {
        Files.createDirectory(dir.resolve("config.json"));
        ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.load(dir));
        assertNames(e, dir.resolve("config.json"), "is a directory");
    }

    @Test
    void weightsThatAreADirectoryAreSaidToBeOne() throws Exception {
        Files.createDirectory(dir.resolve(ModelFiles.SINGLE_FILE));
        var e = assertThrows(TensorFormatException.class, () -> ModelFiles.open(dir));
        assertNames(e, dir.resolve(ModelFiles.SINGLE_FILE), "is a directory");
    }

    @Test
    void tensorsOfALayerTheConfigDoesNotHaveAreRefused() {
        Path tiny = Shared.require("models/tiny-llama");
        Hostile.copy("config/fewer-layers-than-tensors.json", dir, "config.json");
        rewrite(tiny, Map.of(), (name, values) -> { });
        var e = assertThrows(TensorFormatException.class, () -> LlamaModel.load(dir));
        assertNames(e, dir.resolve(ModelFiles.SINGLE_FILE), "9 tensor(s)", "num_hidden_layers 1",
                "does not account for", "model.layers.1.input_layernorm.weight", "model.layers.1.mlp.down_proj.weight");
    }

    @Test
    void rotaryBuffersOfOlderCheckpointsAreAllowed() throws Exception {
        Path tiny = Shared.require("models/tiny-llama");
        Files.copy(tiny.resolve("config.json"), dir.resolve("config.json"));
        rewrite(tiny, Map.of("model.layers.0.self_attn.rotary_emb.inv_freq", new float[8],
                "model.layers.1.self_attn.rotary_emb.inv_freq", new float[8]), (name, values) -> { });
        try (LlamaModel model = LlamaModel.load(dir)) {
            assertEquals(2, model.weights().layers().size());
        }
    }

    @Test
    void aNonFiniteWeightIsRefusedNamingTheTensor() throws Exception {
        Path tiny = Shared.require("models/tiny-llama");
        Files.copy(tiny.resolve("config.json"), dir.resolve("config.json"));
        rewrite(tiny, Map.of(), (name, values) -> {
            if (name.equals("model.layers.1.self_attn.v_proj.weight")) {
                values[77] = Float.NaN;
            }
        });
        var e = assertThrows(TensorFormatException.class, () -> LlamaModel.load(dir));
        assertNames(e, dir.resolve(ModelFiles.SINGLE_FILE), "tensor model.layers.1.self_attn.v_proj.weight",
                "non-finite value (NaN) at element 77");
    }

    @Test
    void anInfiniteNormWeightInBf16IsRefusedNamingTheTensor() throws Exception {
        Path tiny = Shared.require("models/tiny-llama");
        Files.copy(tiny.resolve("config.json"), dir.resolve("config.json"));
        try (SafetensorsFile src = SafetensorsFile.open(tiny.resolve(ModelFiles.SINGLE_FILE))) {
            SafetensorsWriter out = new SafetensorsWriter();
            for (String name : src.names()) {
                float[] values = floats(src, name);
                if (name.equals("model.norm.weight")) {
                    values[3] = Float.NEGATIVE_INFINITY;
                }
                out.add(name, DType.BF16, src.info(name).shape(), values);
            }
            out.write(dir.resolve(ModelFiles.SINGLE_FILE));
        }
        var e = assertThrows(TensorFormatException.class, () -> LlamaModel.load(dir));
        assertNames(e, dir.resolve(ModelFiles.SINGLE_FILE), "tensor model.norm.weight",
                "non-finite value (-Infinity) at element 3");
    }

    /**
     * Writes {@code dir/model.safetensors}: the tensors of {@code tiny} as F32, each passed to {@code edit} first,
     * plus {@code extra} ones.
     */
    private void rewrite(Path tiny, Map<String, float[]> extra, BiConsumer<String, float[]> edit) {
        try (SafetensorsFile src = SafetensorsFile.open(tiny.resolve(ModelFiles.SINGLE_FILE))) {
            SafetensorsWriter out = new SafetensorsWriter();
            for (String name : src.names()) {
                float[] values = floats(src, name);
                edit.accept(name, values);
                out.add(name, DType.F32, src.info(name).shape(), values);
            }
            extra.forEach((name, values) -> out.add(name, DType.F32, new long[] {values.length}, values));
            out.write(dir.resolve(ModelFiles.SINGLE_FILE));
        }
    }

    private static float[] floats(SafetensorsFile file, String name) {
        TensorInfo info = file.info(name);
        float[] values = new float[Math.toIntExact(info.elementCount())];
        for (int i = 0; i < values.length; i++) {
            values[i] = Numerics.load(file.data(name), info.dtype(), i);
        }
        return values;
    }
}
