package dev.tailor.train.checkpoint;

import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.optim.Optimizer;
import dev.tailor.train.optim.OptimizerState;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Restores a checkpoint written by {@link CheckpointWriter}. Everything is read and checked before anything is
 * changed: on any error the parameters and the optimizer are left as they were.
 */
public final class CheckpointReader {
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private CheckpointReader() {
    }

    /**
     * Reads only the trainer state of {@code dir}, restoring nothing (to check that a checkpoint belongs to the run
     * before its tensors are matched against the run's parameters).
     *
     * @throws CheckpointException naming the file when it is missing or malformed
     */
    public static TrainerState state(Path dir) {
        return TrainerStateJson.read(require(dir, CheckpointWriter.TRAINER_STATE));
    }

    /**
     * Loads {@code dir} into {@code params} (their existing arrays) and {@code optimizer}.
     *
     * @return the trainer state
     * @throws CheckpointException naming the file and tensor or field that is missing or does not match
     */
    public static TrainerState load(Path dir, List<Parameter> params, Optimizer optimizer) {
        TrainerState state = state(dir);
        OptimizerState optState = readOptimizer(require(dir, CheckpointWriter.OPTIMIZER), params, optimizer.kind());
        Path trainable = require(dir, CheckpointWriter.TRAINABLE);
        try (SafetensorsFile file = open(trainable)) {
            Map<String, Parameter> byName = byName(params);
            for (String name : file.names()) {
                if (!byName.containsKey(name)) {
                    throw new CheckpointException(trainable + ": tensor " + name
                            + " is not a trainable parameter of this run");
                }
            }
            for (Parameter p : params) {
                if (!file.contains(p.name())) {
                    throw new CheckpointException(trainable + ": missing tensor " + p.name());
                }
                check(trainable, file.info(p.name()), p);
            }
            for (Parameter p : params) {
                MemorySegment.copy(file.data(p.name()), F32_LE, 0, p.data(), 0, p.size());
            }
        }
        try {
            optimizer.load(optState);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(dir.resolve(CheckpointWriter.OPTIMIZER) + ": " + e.getMessage(), e);
        }
        return state;
    }

    /**
     * Reads the optimizer buffers of {@code file}, checking each against its parameter.
     *
     * @param kind the optimizer kind the run uses; the file must hold the same
     */
    public static OptimizerState readOptimizer(Path file, List<Parameter> params, String kind) {
        try (SafetensorsFile st = open(file)) {
            String saved = st.metadata().get(CheckpointWriter.META_OPTIMIZER);
            String step = st.metadata().get(CheckpointWriter.META_STEP);
            if (saved == null || step == null) {
                throw new CheckpointException(file + ": __metadata__ lacks \"" + CheckpointWriter.META_OPTIMIZER
                        + "\" or \"" + CheckpointWriter.META_STEP + "\"");
            }
            if (!saved.equals(kind)) {
                throw new CheckpointException(file + ": holds " + saved + " state, but this run uses " + kind);
            }
            long steps;
            try {
                steps = Long.parseLong(step);
            } catch (NumberFormatException e) {
                throw new CheckpointException(file + ": __metadata__ step \"" + step + "\" is not an integer");
            }
            Map<String, Parameter> byName = byName(params);
            Map<String, Map<String, float[]>> buffers = new LinkedHashMap<>();
            for (String name : st.names()) {
                int dot = name.lastIndexOf('.');
                Parameter p = dot < 0 ? null : byName.get(name.substring(0, dot));
                if (p == null) {
                    throw new CheckpointException(file + ": tensor " + name
                            + " is not {param}.{slot} of a trainable parameter of this run");
                }
                check(file, st.info(name), p);
                float[] values = st.data(name).toArray(F32_LE);
                buffers.computeIfAbsent(p.name(), k -> new HashMap<>()).put(name.substring(dot + 1), values);
            }
            return new OptimizerState(saved, steps, buffers);
        }
    }

    private static void check(Path file, TensorInfo info, Parameter p) {
        if (info.dtype() != DType.F32) {
            throw new CheckpointException(file + ": tensor " + info.name() + " is " + info.dtype()
                    + ", expected F32");
        }
        if (!Arrays.equals(info.shape(), p.shape())) {
            throw new CheckpointException(file + ": tensor " + info.name() + " has shape " + info.shapeString()
                    + ", but parameter " + p.name() + " has " + Arrays.toString(p.shape()));
        }
    }

    private static Map<String, Parameter> byName(List<Parameter> params) {
        Map<String, Parameter> byName = new HashMap<>();
        for (Parameter p : params) {
            byName.put(p.name(), p);
        }
        return byName;
    }

    private static Path require(Path dir, String name) {
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(dir + ": missing " + name);
        }
        return file;
    }

    private static SafetensorsFile open(Path file) {
        try {
            return SafetensorsFile.open(file);
        } catch (TensorFormatException e) {
            throw new CheckpointException(e.getMessage(), e);
        }
    }
}
