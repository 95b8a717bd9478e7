package dev.tailor.bench.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.TensorFormatException;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.checkpoint.CheckpointException;
import dev.tailor.train.checkpoint.CheckpointStore;
import dev.tailor.train.checkpoint.CheckpointWriter;
import dev.tailor.train.checkpoint.TrainerState;
import dev.tailor.train.optim.AdamW;
import dev.tailor.train.optim.LrSchedule;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The {@code checkpoint} fuzz target: a training checkpoint (two trainable tensors, their AdamW moments, the trainer
 * state) with one of its three files damaged, its trainer state's JSON mutated, or a file missing, resumed through
 * {@link CheckpointStore#load}: the run's state, or a {@link CheckpointException} or {@link TensorFormatException}
 * naming the checkpoint (its directory, or the file at fault in it).
 */
final class CheckpointTarget {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> FILES = List.of(CheckpointWriter.TRAINABLE, CheckpointWriter.OPTIMIZER,
            CheckpointWriter.TRAINER_STATE);
    /** The seed checkpoint's files, by name. */
    private static final Map<String, byte[]> SEED = seed();

    private CheckpointTarget() {
    }

    static FuzzTarget.Trial draw(SplittableRandom rnd, Path dir) throws IOException {
        Path checkpoint = Files.createDirectories(dir.resolve("checkpoint-3"));
        String target = FILES.get(rnd.nextInt(FILES.size()));
        String change;
        for (String name : FILES) {
            Files.write(checkpoint.resolve(name), SEED.get(name));
        }
        switch (rnd.nextInt(5)) {
            case 0 -> {
                Files.delete(checkpoint.resolve(target));
                change = target + " missing";
            }
            case 1, 2 -> {
                byte[] damaged = HostileJson.damage(SEED.get(target), rnd);
                Files.write(checkpoint.resolve(target), damaged);
                change = target + " damaged to " + damaged.length + " bytes";
            }
            default -> {
                byte[] state = HostileJson.mutate(JSON.readTree(SEED.get(CheckpointWriter.TRAINER_STATE)), rnd,
                        List.of("format", "version", "step", "epoch", "data_position", "scheduler", "rng_state",
                                "loss_history", "loss", "config_hash", "cosine", "linear", "constant"));
                Files.write(checkpoint.resolve(CheckpointWriter.TRAINER_STATE), state);
                change = CheckpointWriter.TRAINER_STATE + ": " + new String(state, StandardCharsets.UTF_8);
            }
        }
        return new FuzzTarget.Trial(change, () -> CheckpointStore.load(checkpoint, params(), new AdamW(
                AdamW.Config.defaults())), List.of(CheckpointException.class, TensorFormatException.class),
                List.of(checkpoint.toString()));
    }

    /** The run's trainable tensors, fresh (a resume fills them). */
    private static List<Parameter> params() {
        return List.of(new Parameter("layers.0.w", new long[] {2, 3}, new float[6]),
                new Parameter("layers.0.b", new long[] {3}, new float[3]));
    }

    /** A checkpoint after three AdamW steps, as a run saves it. */
    private static Map<String, byte[]> seed() {
        try {
            Path root = Files.createTempDirectory("tailor-fuzz-checkpoint-");
            try {
                List<Parameter> params = params();
                AdamW adam = new AdamW(AdamW.Config.defaults());
                SplittableRandom rnd = new SplittableRandom(7);
                for (int step = 0; step < 3; step++) {
                    for (Parameter p : params) {
                        for (int i = 0; i < p.size(); i++) {
                            p.grad()[i] = (float) rnd.nextGaussian();
                        }
                    }
                    adam.step(params, 1e-2);
                }
                ObjectNode position = JSON.createObjectNode().put("epoch", 0).put("offset", 12);
                position.putArray("order").add(2).add(0).add(1);
                TrainerState state = new TrainerState(3, 0.5, position,
                        new LrSchedule.CosineWithWarmup(3e-4, 2, 100).toJson(), 42, List.of(
                        new TrainerState.LossPoint(1, 2.5), new TrainerState.LossPoint(2, 2.25)), "sha256:abc");
                Path dir = new CheckpointStore(root, 1).save(params, adam.state(), state);
                Map<String, byte[]> files = new LinkedHashMap<>();
                for (String name : FILES) {
                    files.put(name, Files.readAllBytes(dir.resolve(name)));
                }
                return Map.copyOf(files);
            } finally {
                try (Stream<Path> walk = Files.walk(root)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
