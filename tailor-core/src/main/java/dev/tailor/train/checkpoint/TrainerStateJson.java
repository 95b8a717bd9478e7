package dev.tailor.train.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads and writes {@code trainer_state.json}:
 * <pre>
 * {"format": "tailor-trainer-state", "version": 1, "step": 100, "epoch": 0.5, "rng_state": 42,
 *  "config_hash": "…", "data_position": {…}, "scheduler": {…},
 *  "loss_history": [{"step": 1, "loss": 2.31}, …]}
 * </pre>
 * Doubles are written in their shortest round-trip form, so a state reads back bit for bit; a non-finite loss
 * is written as the string {@code "NaN"}, {@code "Infinity"} or {@code "-Infinity"}.
 */
public final class TrainerStateJson {
    /** The value of the {@code format} field. */
    public static final String FORMAT = "tailor-trainer-state";
    /** The version this code writes and reads. */
    public static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** How Jackson writes non-finite doubles (as strings). */
    private static final Set<String> NON_FINITE = Set.of("NaN", "Infinity", "-Infinity");

    private TrainerStateJson() {
    }

    /** The state as a JSON object. */
    public static ObjectNode toJson(TrainerState state) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT).put("version", VERSION).put("step", state.step()).put("epoch", state.epoch())
                .put("rng_state", state.rngState()).put("config_hash", state.configHash());
        root.set("data_position", state.dataPosition());
        root.set("scheduler", state.scheduler());
        ArrayNode losses = root.putArray("loss_history");
        for (TrainerState.LossPoint p : state.lossHistory()) {
            losses.addObject().put("step", p.step()).put("loss", p.loss());
        }
        return root;
    }

    /** Writes {@code file} atomically and forced to disk. */
    public static void write(Path file, TrainerState state) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(toJson(state));
        AtomicFiles.write(file, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
    }

    /**
     * Reads and validates {@code file}.
     *
     * @throws CheckpointException naming the file and the field that is missing or malformed
     */
    public static TrainerState read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file + ": expected a JSON object");
        }
        Fields f = new Fields(file, root);
        if (!FORMAT.equals(f.text("format"))) {
            throw new CheckpointException(file + ": field \"format\" must be \"" + FORMAT + "\", got \""
                    + root.get("format").asText() + "\"");
        }
        long version = f.integer("version");
        if (version != VERSION) {
            throw new CheckpointException(file + ": unsupported trainer state version " + version + " (expected "
                    + VERSION + ")");
        }
        long step = f.integer("step");
        if (step < 0) {
            throw new CheckpointException(file + ": field \"step\" must be >= 0, got " + step);
        }
        List<TrainerState.LossPoint> history = new ArrayList<>();
        JsonNode losses = f.require("loss_history");
        if (!losses.isArray()) {
            throw new CheckpointException(file + ": field \"loss_history\" must be an array");
        }
        for (int i = 0; i < losses.size(); i++) {
            JsonNode entry = losses.get(i);
            if (!entry.isObject()) {
                throw new CheckpointException(file + ": loss_history[" + i + "] must be an object");
            }
            Fields e = new Fields(file, entry, "loss_history[" + i + "].");
            history.add(new TrainerState.LossPoint(e.integer("step"), e.number("loss")));
        }
        return new TrainerState(step, f.number("epoch"), f.object("data_position"), f.object("scheduler"),
                f.integer("rng_state"), history, f.text("config_hash"));
    }

    /** Typed access to an object's fields with errors naming the file and field. */
    private record Fields(Path file, JsonNode node, String prefix) {
        Fields(Path file, JsonNode node) {
            this(file, node, "");
        }

        JsonNode require(String key) {
            JsonNode n = node.get(key);
            if (n == null || n.isNull()) {
                throw new CheckpointException(file + ": missing field \"" + prefix + key + "\"");
            }
            return n;
        }

        private CheckpointException wrong(String key, String expected, JsonNode n) {
            return new CheckpointException(file + ": field \"" + prefix + key + "\" must be " + expected + ", got "
                    + n);
        }

        String text(String key) {
            JsonNode n = require(key);
            if (!n.isTextual()) {
                throw wrong(key, "a string", n);
            }
            return n.asText();
        }

        long integer(String key) {
            JsonNode n = require(key);
            if (!n.isIntegralNumber() || !n.canConvertToLong()) {
                throw wrong(key, "an integer", n);
            }
            return n.asLong();
        }

        double number(String key) {
            JsonNode n = require(key);
            if (n.isNumber()) {
                return n.asDouble();
            }
            if (n.isTextual() && NON_FINITE.contains(n.asText())) {
                return Double.parseDouble(n.asText());
            }
            throw wrong(key, "a number", n);
        }

        JsonNode object(String key) {
            JsonNode n = require(key);
            if (!n.isObject()) {
                throw wrong(key, "an object", n);
            }
            return n;
        }
    }
}
