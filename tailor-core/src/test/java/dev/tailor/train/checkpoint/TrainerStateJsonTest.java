package dev.tailor.train.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TrainerStateJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static TrainerState sample() {
        return new TrainerState(12, 1.5, JSON.createObjectNode().put("row", 7), JSON.createObjectNode()
                .put("type", "linear"), -3L, List.of(new TrainerState.LossPoint(11, Double.POSITIVE_INFINITY),
                new TrainerState.LossPoint(12, 1.0000000000000002)), "h");
    }

    private String failure(ObjectNode json) throws IOException {
        Path file = dir.resolve("trainer_state.json");
        Files.writeString(file, json.toString());
        return assertThrows(CheckpointException.class, () -> TrainerStateJson.read(file)).getMessage()
                .substring(file.toString().length());
    }

    @Test
    void roundTripsExactly() throws IOException {
        Path file = dir.resolve("trainer_state.json");
        TrainerStateJson.write(file, sample());
        assertEquals(sample(), TrainerStateJson.read(file));
    }

    @Test
    void malformedFieldsAreNamed() throws IOException {
        ObjectNode good = TrainerStateJson.toJson(sample());
        assertEquals(": missing field \"step\"", failure(good.deepCopy().without("step")));
        assertEquals(": field \"rng_state\" must be an integer, got \"x\"",
                failure(good.deepCopy().put("rng_state", "x")));
        assertEquals(": field \"data_position\" must be an object, got 3",
                failure(good.deepCopy().put("data_position", 3)));
        assertEquals(": unsupported trainer state version 2 (expected 1)", failure(good.deepCopy().put("version", 2)));
        assertEquals(": field \"format\" must be \"tailor-trainer-state\", got \"hf\"",
                failure(good.deepCopy().put("format", "hf")));
        ObjectNode badLoss = good.deepCopy();
        ((ObjectNode) badLoss.withArray("loss_history").get(1)).put("loss", "low");
        assertEquals(": field \"loss_history[1].loss\" must be a number, got \"low\"", failure(badLoss));
    }
}
