package dev.tailor.cost;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.Shared;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.MethodVariant;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.NamedTensors;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tokenizer.Tokenizers;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.ModelExport;
import dev.tailor.train.TrainingMethod;
import dev.tailor.train.nn.TrainableLlama;
import dev.tailor.train.optim.OptimizerType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The cost model's counts, exactly, against what {@code tailor train} makes on the shared tiny Llama: every registered
 * method's trainable parameters and lowest trained block against its adapter made through the registry and set up
 * for training, its artifact against the bytes of that adapter saved; full and partial fine-tuning against the
 * training network and the saved model; the base's tensors against the loaded weights.
 */
class CostExactTest {
    private static final String NAME = "tiny-llama";
    private static Path dir;
    private static LlamaModel model;
    private static CostBase base;
    private static AdapterBase adapterBase;

    @BeforeAll
    static void open() throws IOException {
        dir = Shared.require("models/tiny-llama");
        model = LlamaModel.load(dir);
        base = CostBase.read(dir, NAME);
        adapterBase = new AdapterBase(model.config(), model.weights(), Tokenizers.load(dir), NAME);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    static Stream<MethodVariant> variants() {
        return MethodVariant.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void everyMethodsParametersAndArtifactAreWhatTrainingMakes(MethodVariant variant, @TempDir Path out) {
        Map<String, List<String>> given = variant.given(model.config(), Map.of());
        Adapter adapter = variant.create(adapterBase, Map.of(), 42);
        TrainableLlama trainable = TrainableLlama.create(model.config(), model.weights(), name -> false,
                adapter.sites());
        CostEstimate cost = CostModel.estimate(base, TrainingMethod.of(variant.name(), null, given),
                CostSettings.defaults(CostConfigs.h100()));

        assertEquals(trainable.parameters().stream().mapToLong(p -> p.size()).sum(), cost.trainableParameters(),
                variant + ": trainable parameters");
        assertEquals(trainable.stopLayer(), cost.stopLayer(), variant + ": lowest trained block");
        adapter.save(out, NAME, BaseFingerprint.compute(dir));
        assertEquals(size(out), cost.artifactBytes(), variant + ": artifact bytes");
        assertEquals(cost.baseParameters() + adapter.parameterCount(), cost.totalParameters());
    }

    @Test
    void fullAndPartialFineTuningTrainWhatTheTrainingNetworkTrainsAndSaveTheModelsBytes(@TempDir Path out)
            throws IOException {
        FreezePlan topAndHead = new FreezePlan(false, new int[] {1, 1}, List.of("mlp.*"), false, false, true);
        FreezePlan norms = new FreezePlan(false, null, List.of(), true, false, false);
        for (TrainingMethod method : List.of(CostConfigs.full(), CostConfigs.partial(topAndHead),
                CostConfigs.partial(norms))) {
            FreezePlan plan = ((TrainingMethod.FineTuning) method).plan();
            TrainableLlama trainable = TrainableLlama.create(model.config(), model.weights(), plan);
            CostEstimate cost = CostModel.estimate(base, method, CostSettings.defaults(CostConfigs.h100()));
            assertEquals(trainable.parameters().stream().mapToLong(p -> p.size()).sum(), cost.trainableParameters(),
                    plan.describe());
            assertEquals(trainable.stopLayer(), cost.stopLayer(), plan.describe());
        }
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        for (DType dtype : List.of(DType.F32, DType.BF16)) {
            Path saved = out.resolve(dtype.name());
            ModelExport.save(saved, json, model.weights(), dtype, dir);
            CostSettings settings = new CostSettings(512, 4, 1, 1000, null, Precision.F32, Precision.F32, false,
                    OptimizerType.ADAMW, Precision.of(dtype), CostConfigs.h100(), null, null, 1);
            assertEquals(size(saved), CostModel.estimate(base, CostConfigs.full(), settings).artifactBytes(),
                    "the full model saved as " + dtype);
        }
    }

    @Test
    void theBasesTensorsAreTheLoadedWeightsNamesAndShapes() {
        Map<String, Object> loaded = NamedTensors.of(model.weights());
        List<BaseTensors.Tensor> worked = BaseTensors.of(model.config());
        assertEquals(List.copyOf(loaded.keySet()), worked.stream().map(BaseTensors.Tensor::name).toList());
        for (BaseTensors.Tensor t : worked) {
            Object tensor = loaded.get(t.name());
            long size = tensor instanceof WeightMatrix w ? (long) w.rows() * w.cols() : ((float[]) tensor).length;
            assertEquals(size, t.size(), t.name());
        }
    }

    private static long size(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
