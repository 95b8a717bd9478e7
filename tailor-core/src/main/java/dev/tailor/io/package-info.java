/**
 * Model files on disk: safetensors read in place ({@link dev.tailor.io.SafetensorsFile}, memory-mapped and
 * validated so that a corrupt header fails with a message naming the file and tensor), sharded checkpoints
 * ({@link dev.tailor.io.ModelFiles}), atomic writing ({@link dev.tailor.io.SafetensorsWriter},
 * {@link dev.tailor.io.AtomicFiles}) and the identity of a base model ({@link dev.tailor.model.BaseFingerprint}).
 */
package dev.tailor.io;
