/** Benchmarks of tokenizer loading and encoding on the reference tokenizers and texts in {@code shared/}. */
package dev.tailor.bench.tokenizer;
