package dev.tailor.train.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/** Writes the files of one checkpoint into a directory that is not yet visible under its final name. */
@FunctionalInterface
public interface CheckpointContent {
    /**
     * Writes every file of the checkpoint into {@code dir} (which exists and is empty).
     *
     * @throws IOException or any runtime exception: the checkpoint is then abandoned
     */
    void writeTo(Path dir) throws IOException;
}
