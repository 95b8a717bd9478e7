package dev.tailor.io;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens the weights of a Hugging Face model directory as one {@link TensorSource}: {@code model.safetensors}
 * when present (transformers looks for it first), else the shards listed in {@code model.safetensors.index.json}.
 */
public final class ModelFiles {
    /** The single-file checkpoint name. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The index of a sharded checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private ModelFiles() {
    }

    /**
     * Opens the checkpoint in {@code dir}.
     *
     * @throws TensorFormatException naming the directory when it holds neither file, naming
     *                               {@code model.safetensors} when it is a directory, or naming the index, shard and
     *                               tensor when a sharded checkpoint is inconsistent
     */
    public static TensorSource open(Path dir) {
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.isDirectory(single)) {
            throw new TensorFormatException(single + ": is a directory, not a safetensors file");
        }
        if (Files.isRegularFile(single)) {
            return SafetensorsFile.open(single);
        }
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return ShardedTensorSource.open(index);
        }
        throw new TensorFormatException(dir + ": no " + SINGLE_FILE + " or " + INDEX_FILE
                + " (not a safetensors model directory)");
    }
}
