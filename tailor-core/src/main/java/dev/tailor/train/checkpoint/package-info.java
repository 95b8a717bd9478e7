/**
 * Training checkpoints: a directory {@code checkpoint-{step}/} holding {@code trainable.safetensors} (the trained
 * parameters, F32), {@code optimizer.safetensors} (the optimizer's buffers as {@code {param}.{slot}}) and
 * {@code trainer_state.json} (step, epoch, data position, schedule, RNG state, loss history, config hash).
 *
 * <p>{@link dev.tailor.train.checkpoint.CheckpointStore} writes a checkpoint into a hidden temporary directory,
 * forces every file and the directory to disk and only then renames it to its final name, so a crash never leaves
 * a directory called {@code checkpoint-N} that is incomplete; it keeps the last N checkpoints and finds the newest.
 */
package dev.tailor.train.checkpoint;
