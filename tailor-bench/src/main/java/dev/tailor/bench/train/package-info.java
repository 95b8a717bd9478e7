/** Benchmarks of the training engine's kernels: optimizer updates and gradient clipping. */
package dev.tailor.bench.train;
