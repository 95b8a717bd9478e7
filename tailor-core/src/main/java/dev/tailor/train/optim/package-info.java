/**
 * Optimizers, learning-rate schedules and gradient clipping for training, with the semantics of the reference
 * implementations users compare against: {@code torch.optim.AdamW} and {@code torch.optim.SGD} (single-tensor,
 * {@code foreach=False} path, float32 state), Hugging Face transformers' warm-up schedules and
 * {@code torch.nn.utils.clip_grad_norm_}.
 *
 * <p>An {@link dev.tailor.train.optim.Optimizer} updates {@link dev.tailor.tensor.Parameter}s in place from their
 * gradients; its {@link dev.tailor.train.optim.OptimizerState} is what a checkpoint saves.
 */
package dev.tailor.train.optim;
