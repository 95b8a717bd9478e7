package dev.tailor.train.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.optim.AdamW;
import dev.tailor.train.optim.LrSchedule;
import dev.tailor.train.optim.OptimizerState;
import dev.tailor.train.optim.Sgd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointStoreTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path root;

    private static List<Parameter> params(long seed) {
        Random rnd = new Random(seed);
        float[] w = new float[6];
        float[] b = new float[3];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rnd.nextGaussian();
        }
        return List.of(new Parameter("layers.0.w", new long[]{2, 3}, w), new Parameter("layers.0.b", new long[]{3}, b));
    }

    private static void train(List<Parameter> params, AdamW adam, int steps, long seed) {
        Random rnd = new Random(seed);
        for (int s = 0; s < steps; s++) {
            for (Parameter p : params) {
                for (int i = 0; i < p.size(); i++) {
                    p.grad()[i] = (float) rnd.nextGaussian();
                }
            }
            adam.step(params, 1e-2);
        }
    }

    private static TrainerState state(long step) {
        ObjectNode position = JSON.createObjectNode().put("epoch", 0).put("offset", 1234);
        position.putArray("order").add(3).add(1).add(2);
        return new TrainerState(step, step / 7.0, position, new LrSchedule.CosineWithWarmup(3e-4, 2, 100).toJson(),
                0x5DEECE66DL, List.of(new TrainerState.LossPoint(1, 0.1 + 0.2), new TrainerState.LossPoint(2,
                Double.NaN), new TrainerState.LossPoint(3, 2.718281828459045)), "sha256:abc");
    }

    private static int[] bits(float[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = Float.floatToRawIntBits(a[i]);
        }
        return out;
    }

    private List<String> entries() throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void roundTripIsBitwiseAndResumesExactly() {
        List<Parameter> saved = params(1);
        saved.get(1).data()[0] = -0.0f;
        saved.get(1).data()[1] = Float.MIN_VALUE;
        saved.get(1).data()[2] = Float.intBitsToFloat(0x7fc01234);
        AdamW adam = new AdamW(AdamW.Config.defaults());
        train(saved.subList(0, 1), adam, 3, 9);
        CheckpointStore store = new CheckpointStore(root, 3);
        Path dir = store.save(saved, adam.state(), state(3));
        assertEquals(root.resolve("checkpoint-3"), dir);

        List<Parameter> loaded = List.of(new Parameter("layers.0.w", new long[]{2, 3}, new float[6]),
                new Parameter("layers.0.b", new long[]{3}, new float[3]));
        AdamW resumed = new AdamW(AdamW.Config.defaults());
        TrainerState state = CheckpointStore.load(dir, loaded, resumed);
        assertEquals(state(3), state);
        for (int i = 0; i < saved.size(); i++) {
            assertArrayEquals(bits(saved.get(i).data()), bits(loaded.get(i).data()), saved.get(i).name());
        }
        assertEquals(3, resumed.steps());
        OptimizerState a = adam.state();
        OptimizerState b = resumed.state();
        assertEquals(a.buffers().keySet(), b.buffers().keySet());
        assertArrayEquals(bits(a.require("layers.0.w", AdamW.EXP_AVG)), bits(b.require("layers.0.w", AdamW.EXP_AVG)));
        assertArrayEquals(bits(a.require("layers.0.w", AdamW.EXP_AVG_SQ)),
                bits(b.require("layers.0.w", AdamW.EXP_AVG_SQ)));

        train(saved.subList(0, 1), adam, 2, 11);
        train(loaded.subList(0, 1), resumed, 2, 11);
        assertArrayEquals(bits(saved.get(0).data()), bits(loaded.get(0).data()));
    }

    @Test
    void sgdMomentumRoundTrips() {
        List<Parameter> ps = params(2);
        Sgd sgd = new Sgd(new Sgd.Config(0.9, false, 0));
        ps.forEach(p -> p.grad()[0] = 1.5f);
        sgd.step(ps, 0.1);
        Path dir = new CheckpointStore(root, 0).save(ps, sgd.state(), state(1));
        Sgd resumed = new Sgd(new Sgd.Config(0.9, false, 0));
        CheckpointStore.load(dir, params(2), resumed);
        assertArrayEquals(sgd.state().require("layers.0.b", Sgd.MOMENTUM_BUFFER),
                resumed.state().require("layers.0.b", Sgd.MOMENTUM_BUFFER));
    }

    @Test
    void keepsOnlyTheLastN() throws IOException {
        CheckpointStore store = new CheckpointStore(root, 2);
        List<Parameter> ps = params(3);
        AdamW adam = new AdamW(AdamW.Config.defaults());
        for (long step : new long[]{5, 10, 15, 20, 100}) {
            store.save(ps, adam.state(), state(step));
        }
        assertEquals(List.of("checkpoint-100", "checkpoint-20"), entries());
        assertEquals(List.of(root.resolve("checkpoint-20"), root.resolve("checkpoint-100")),
                CheckpointStore.list(root));
        assertEquals(Optional.of(root.resolve("checkpoint-100")), CheckpointStore.latest(root));
    }

    @Test
    void interruptedWriteLeavesThePreviousCheckpointAsLatest() throws IOException {
        CheckpointStore store = new CheckpointStore(root, 0);
        List<Parameter> ps = params(4);
        AdamW adam = new AdamW(AdamW.Config.defaults());
        store.save(ps, adam.state(), state(10));
        CheckpointWriter writer = new CheckpointWriter(ps, adam.state(), state(20));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.save(20, dir -> {
            writer.writeTrainable(dir);
            throw new IllegalStateException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertFalse(Files.exists(root.resolve("checkpoint-20")));
        assertEquals(List.of("checkpoint-10"), entries());
        assertEquals(Optional.of(root.resolve("checkpoint-10")), CheckpointStore.latest(root));
    }

    @Test
    void killedProcessLeavesOnlyAHiddenDirectoryThatIsIgnoredAndCleanedUp() throws IOException {
        CheckpointStore store = new CheckpointStore(root, 0);
        List<Parameter> ps = params(5);
        AdamW adam = new AdamW(AdamW.Config.defaults());
        store.save(ps, adam.state(), state(10));
        Path crashed = Files.createDirectory(root.resolve(".checkpoint-30.tmp-deadbeef"));
        new CheckpointWriter(ps, adam.state(), state(30)).writeTo(crashed);
        Files.createDirectory(root.resolve("checkpoint-40"));
        assertEquals(Optional.of(root.resolve("checkpoint-10")), CheckpointStore.latest(root));
        store.save(ps, adam.state(), state(11));
        assertFalse(Files.exists(crashed));
        assertEquals(Optional.of(root.resolve("checkpoint-11")), CheckpointStore.latest(root));
    }

    @Test
    void savingTheSameStepAgainReplacesIt() throws IOException {
        CheckpointStore store = new CheckpointStore(root, 0);
        List<Parameter> ps = params(6);
        AdamW adam = new AdamW(AdamW.Config.defaults());
        store.save(ps, adam.state(), state(8));
        ps.get(0).data()[0] = 42f;
        Path dir = store.save(ps, adam.state(), state(8));
        List<Parameter> back = params(7);
        CheckpointStore.load(dir, back, new AdamW(AdamW.Config.defaults()));
        assertEquals(42f, back.get(0).data()[0]);
        assertEquals(List.of("checkpoint-8"), entries());
    }

    @Test
    void mismatchedShapesAndNamesFailClearlyAndChangeNothing() {
        List<Parameter> ps = params(8);
        Path dir = new CheckpointStore(root, 0).save(ps, new AdamW(AdamW.Config.defaults()).state(), state(1));
        Path trainable = dir.resolve("trainable.safetensors");

        List<Parameter> transposed = List.of(new Parameter("layers.0.w", new long[]{3, 2}, new float[6]),
                new Parameter("layers.0.b", new long[]{3}, new float[3]));
        CheckpointException shape = assertThrows(CheckpointException.class,
                () -> CheckpointStore.load(dir, transposed, new AdamW(AdamW.Config.defaults())));
        assertEquals(trainable + ": tensor layers.0.w has shape [2, 3], but parameter layers.0.w has [3, 2]",
                shape.getMessage());
        assertArrayEquals(new float[3], transposed.get(1).data(), "nothing is loaded when a check fails");

        List<Parameter> renamed = List.of(new Parameter("layers.0.w", new long[]{2, 3}, new float[6]),
                new Parameter("layers.0.bias", new long[]{3}, new float[3]));
        CheckpointException name = assertThrows(CheckpointException.class,
                () -> CheckpointStore.load(dir, renamed, new AdamW(AdamW.Config.defaults())));
        assertEquals(trainable + ": tensor layers.0.b is not a trainable parameter of this run", name.getMessage());

        List<Parameter> extra = List.of(ps.get(0), ps.get(1), new Parameter("head", new long[]{1}, new float[1]));
        CheckpointException missing = assertThrows(CheckpointException.class,
                () -> CheckpointStore.load(dir, extra, new AdamW(AdamW.Config.defaults())));
        assertEquals(trainable + ": missing tensor head", missing.getMessage());
    }

    @Test
    void optimizerStateOfAnotherKindOrShapeFailsClearly() {
        List<Parameter> ps = params(9);
        AdamW adam = new AdamW(AdamW.Config.defaults());
        train(ps, adam, 1, 1);
        Path dir = new CheckpointStore(root, 0).save(ps, adam.state(), state(1));
        Path optimizer = dir.resolve("optimizer.safetensors");
        CheckpointException kind = assertThrows(CheckpointException.class,
                () -> CheckpointStore.load(dir, params(9), new Sgd(new Sgd.Config(0.9, false, 0))));
        assertEquals(optimizer + ": holds adamw state, but this run uses sgd", kind.getMessage());

        List<Parameter> other = List.of(new Parameter("layers.0.w", new long[]{6}, new float[6]), ps.get(1));
        CheckpointException shape = assertThrows(CheckpointException.class,
                () -> CheckpointStore.load(dir, other, new AdamW(AdamW.Config.defaults())));
        assertTrue(shape.getMessage().startsWith(optimizer + ": tensor layers.0.w.exp_avg"), shape.getMessage());
        assertTrue(shape.getMessage().endsWith("has shape [2, 3], but parameter layers.0.w has [6]"),
                shape.getMessage());
    }

    @Test
    void corruptTrainerStateFailsClearly() throws IOException {
        List<Parameter> ps = params(10);
        Path dir = new CheckpointStore(root, 0).save(ps, new AdamW(AdamW.Config.defaults()).state(), state(1));
        Path json = dir.resolve("trainer_state.json");
        Files.writeString(json, "{\"format\": \"tailor-trainer-state\", \"step\": ");
        CheckpointException truncated = assertThrows(CheckpointException.class,
                () -> CheckpointStore.load(dir, params(10), new AdamW(AdamW.Config.defaults())));
        assertTrue(truncated.getMessage().startsWith(json + ": not valid JSON: "), truncated.getMessage());

        Files.delete(json);
        CheckpointException absent = assertThrows(CheckpointException.class,
                () -> CheckpointStore.load(dir, params(10), new AdamW(AdamW.Config.defaults())));
        assertEquals(dir + ": missing trainer_state.json", absent.getMessage());
    }

    @Test
    void noCheckpointsMeansNoLatest() {
        assertEquals(Optional.empty(), CheckpointStore.latest(root.resolve("absent")));
        assertEquals(Optional.empty(), CheckpointStore.latest(root));
    }
}
