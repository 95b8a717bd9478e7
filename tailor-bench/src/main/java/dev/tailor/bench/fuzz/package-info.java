/**
 * Fuzzing of Tailor's loaders and option checks: seeded generators of hostile inputs (mutated model configs,
 * tokenizers, safetensors headers, adapter configs, method options, JSON Lines data and chat templates), the property
 * each loader must keep (a result, or its documented exception naming the file or option, within a time limit), and
 * a runner for long seeded runs ({@code tailor bench fuzz}). The same targets run as jqwik properties in the test
 * suite with fixed seeds.
 */
package dev.tailor.bench.fuzz;
