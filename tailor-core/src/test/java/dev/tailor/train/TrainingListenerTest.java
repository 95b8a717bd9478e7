package dev.tailor.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.Shared;
import dev.tailor.train.checkpoint.CheckpointStore;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.optim.OptimizerType;
import dev.tailor.train.optim.ScheduleType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@link TrainingListener} hears every line of {@code metrics.jsonl} and every checkpoint as the run makes them; an
 * exception it throws stops the run there, and a resumed run tells it where it starts and then gives the very
 * metrics the uninterrupted run gave.
 */
class TrainingListenerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    private static Path modelDir;
    private static Path data;

    @BeforeAll
    static void data() throws IOException {
        modelDir = Shared.require("models/tiny-llama");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            lines.add(JSON.writeValueAsString(Map.of("prompt", "Question " + i + ": what is " + i + " plus one?",
                    "completion", " It is " + (i + 1) + ".")));
        }
        data = Files.write(dir.resolve("data.jsonl"), lines);
    }

    /** Everything a listener heard, as text: one entry per call. */
    private static final class Recorder implements TrainingListener {
        final List<String> heard = new ArrayList<>();
        final List<ObjectNode> metrics = new ArrayList<>();
        final List<Long> checkpoints = new ArrayList<>();
        private final long stopAfterCheckpoint;

        Recorder(long stopAfterCheckpoint) {
            this.stopAfterCheckpoint = stopAfterCheckpoint;
        }

        @Override
        public void started(long step, long totalSteps, Path checkpoint) {
            heard.add("started " + step + "/" + totalSteps + (checkpoint == null ? "" : " " + checkpoint.getFileName()));
        }

        @Override
        public void metrics(ObjectNode line) {
            metrics.add(line);
        }

        @Override
        public void checkpointSaved(long step, Path dir) {
            assertTrue(Files.isDirectory(dir), "the checkpoint is complete when told: " + dir);
            assertEquals(CheckpointStore.PREFIX + step, dir.getFileName().toString());
            checkpoints.add(step);
            if (step == stopAfterCheckpoint) {
                throw new IllegalStateException("stop at " + step);
            }
        }
    }

    private static TrainingRun.Spec spec(Path out, boolean resume) {
        return new TrainingRun.Spec(new TrainingRun.Base.Pretrained(modelDir, "tiny-llama"),
                new DataConfig(data, null, null, 0.25, 32, 2, 7, true, false),
                TrainingMethod.of("lora", null, Map.of("r", List.of("4"), "target_modules", List.of("all-linear"))),
                new TrainOptions(6, 0, 1, 1e-2, 0, ScheduleType.LINEAR, 0, 1, OptimizerType.ADAMW, 3, 2, 5, 1,
                        false),
                out, null, resume);
    }

    private static PrintWriter quiet() {
        return new PrintWriter(Writer.nullWriter());
    }

    @Test
    void theListenerHearsEveryMetricsLineAndCheckpointAndAResumeContinuesExactly() throws IOException {
        Path whole = dir.resolve("whole");
        Recorder all = new Recorder(-1);
        TrainingRun.run(spec(whole, false), quiet(), false, all);
        List<String> written = Files.readAllLines(whole.resolve("metrics.jsonl"));
        assertEquals(written.size(), all.metrics.size());
        for (int i = 0; i < written.size(); i++) {
            assertEquals(written.get(i), JSON.writeValueAsString(all.metrics.get(i)), "line " + (i + 1));
        }
        assertEquals(List.of(1L, 2L, 3L, 3L, 4L, 5L, 6L, 6L), all.metrics.stream().map(m -> m.get("step").asLong())
                .toList(), "an update's line each step, an evaluation's after steps 3 and 6");
        assertTrue(all.metrics.get(3).has("eval_loss"));
        assertEquals(List.of(2L, 4L, 6L), all.checkpoints);
        assertEquals(List.of("started 0/6"), all.heard);

        Path cut = dir.resolve("cut");
        Recorder first = new Recorder(4);
        IllegalStateException stopped = assertThrows(IllegalStateException.class,
                () -> TrainingRun.run(spec(cut, true), quiet(), false, first));
        assertEquals("stop at 4", stopped.getMessage());
        assertEquals(List.of(2L, 4L), first.checkpoints);
        assertFalse(Files.exists(cut.resolve("adapter_model.safetensors")), "a stopped run saves no adapter");

        Recorder second = new Recorder(-1);
        TrainingRun.run(spec(cut, true), quiet(), false, second);
        assertEquals(List.of("started 0/6"), first.heard);
        assertEquals(List.of("started 4/6 " + CheckpointStore.PREFIX + 4), second.heard);
        assertEquals(List.of(6L), second.checkpoints);
        List<ObjectNode> after = all.metrics.stream().filter(m -> m.get("step").asLong() > 4).toList();
        assertEquals(after.size(), second.metrics.size());
        for (int i = 0; i < after.size(); i++) {
            for (String key : List.of("step", "loss", "lr", "grad_norm", "eval_loss")) {
                assertEquals(String.valueOf(after.get(i).get(key)), String.valueOf(second.metrics.get(i).get(key)),
                        key + " of line " + i + " after the resume");
            }
        }
        assertArrayEquals(Files.readAllBytes(whole.resolve("adapter_model.safetensors")),
                Files.readAllBytes(cut.resolve("adapter_model.safetensors")), "the resumed run saves the same adapter");
    }
}
