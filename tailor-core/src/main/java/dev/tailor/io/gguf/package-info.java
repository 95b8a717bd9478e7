/**
 * GGUF model files read in place ({@link dev.tailor.io.gguf.GgufFile}: header, typed metadata and tensor infos, each
 * length and offset checked against the file), their ggml tensor types ({@link dev.tailor.io.gguf.GgmlType}: Q8_0
 * and Q4_0 kept quantized, K-quants widened by {@link dev.tailor.tensor.Quantization} as ggml widens them), and a
 * model's tensors and config under their Hugging Face names and layout ({@link dev.tailor.io.gguf.GgufTensorSource}, {@link dev.tailor.io.gguf.GgufConfig}).
 */
package dev.tailor.io.gguf;
