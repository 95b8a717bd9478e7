/** Benchmarks of the training data pipeline (reading, encoding and packing datasets) on the shared data. */
package dev.tailor.bench.data;
