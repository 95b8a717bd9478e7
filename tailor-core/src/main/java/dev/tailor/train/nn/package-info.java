/**
 * The Llama-family network for training: a forward pass that saves what backward needs and the backward pass,
 * one function pair per layer (as in llm.c), over base weights that are either frozen (read in place from the
 * memory-mapped checkpoint, no gradient) or trainable (float32 {@link dev.tailor.tensor.Parameter}s).
 */
package dev.tailor.train.nn;
