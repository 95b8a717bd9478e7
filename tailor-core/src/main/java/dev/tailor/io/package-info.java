/**
 * Model files on disk: safetensors read in place ({@link dev.tailor.io.SafetensorsFile}, memory-mapped and
 * validated so that a corrupt header fails with a message naming the file and tensor), sharded checkpoints
 * ({@link dev.tailor.io.ModelFiles}), atomic writing ({@link dev.tailor.io.SafetensorsWriter},
 * {@link dev.tailor.io.AtomicFiles}) and JSON written as Python's {@code json.dumps} writes it
 * ({@link dev.tailor.io.PythonJson}).
 */
package dev.tailor.io;
