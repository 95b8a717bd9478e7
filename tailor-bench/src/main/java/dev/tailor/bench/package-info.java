/**
 * Benchmarks: JMH kernel benchmarks ({@link dev.tailor.bench.MatmulJmh}) and plain runners that print one
 * {@code RESULT {json}} line per measurement in the format of the peer script {@code torch_peer.py}
 * ({@link dev.tailor.bench.MatmulBench}).
 */
package dev.tailor.bench;
