/**
 * Text generation: choosing the next token from the model's logits ({@link dev.tailor.generate.Sampler} with
 * {@link dev.tailor.generate.SamplingParams}) and cutting the output at stop strings
 * ({@link dev.tailor.generate.StopStrings}).
 */
package dev.tailor.generate;
