package dev.tailor.train.checkpoint;

import dev.tailor.io.SafetensorsWriter;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.optim.OptimizerState;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The content of one checkpoint: the parameters, the optimizer state and the trainer state, written as
 * {@value #TRAINABLE}, {@value #OPTIMIZER} and {@value #TRAINER_STATE}. Each file is written atomically and
 * forced to disk.
 *
 * @param params    the trainable parameters, saved under their names as F32
 * @param optimizer the optimizer's state; its buffers are saved as {@code {param}.{slot}} with the parameter's
 *                  shape, its kind and step in the header's {@code __metadata__}
 * @param trainer   the trainer state
 */
public record CheckpointWriter(List<Parameter> params, OptimizerState optimizer, TrainerState trainer)
        implements CheckpointContent {
    /** File of the trained parameters. */
    public static final String TRAINABLE = "trainable.safetensors";
    /** File of the optimizer's buffers. */
    public static final String OPTIMIZER = "optimizer.safetensors";
    /** File of the trainer state. */
    public static final String TRAINER_STATE = "trainer_state.json";
    /** {@code __metadata__} key of the optimizer's kind. */
    static final String META_OPTIMIZER = "optimizer";
    /** {@code __metadata__} key of the optimizer's step count. */
    static final String META_STEP = "step";

    /** Copies the parameter list. */
    public CheckpointWriter {
        params = List.copyOf(params);
    }

    @Override
    public void writeTo(Path dir) throws IOException {
        writeTrainable(dir);
        writeOptimizer(dir);
        writeTrainerState(dir);
    }

    /** Writes {@value #TRAINABLE} into {@code dir}. */
    public void writeTrainable(Path dir) {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (Parameter p : params) {
            w.add(p.name(), DType.F32, p.shape(), p.data());
        }
        w.write(dir.resolve(TRAINABLE));
    }

    /**
     * Writes {@value #OPTIMIZER} into {@code dir}.
     *
     * @throws CheckpointException if the state holds a buffer of an unknown parameter or of the wrong length
     */
    public void writeOptimizer(Path dir) {
        Map<String, Parameter> byName = new HashMap<>();
        for (Parameter p : params) {
            byName.put(p.name(), p);
        }
        SafetensorsWriter w = new SafetensorsWriter().metadata(META_OPTIMIZER, optimizer.kind())
                .metadata(META_STEP, Long.toString(optimizer.step()));
        optimizer.buffers().forEach((name, slots) -> {
            Parameter p = byName.get(name);
            if (p == null) {
                throw new CheckpointException(optimizer.kind() + " state holds buffers for " + name
                        + ", which is not a trainable parameter");
            }
            slots.forEach((slot, values) -> {
                if (values.length != p.size()) {
                    throw new CheckpointException(name + "." + slot + " holds " + values.length
                            + " values, the parameter " + p.size());
                }
                w.add(name + "." + slot, DType.F32, p.shape(), values);
            });
        });
        w.write(dir.resolve(OPTIMIZER));
    }

    /** Writes {@value #TRAINER_STATE} into {@code dir}. */
    public void writeTrainerState(Path dir) throws IOException {
        TrainerStateJson.write(dir.resolve(TRAINER_STATE), trainer);
    }
}
