/**
 * GGUF model files read in place ({@link dev.tailor.io.gguf.GgufFile}: header, typed metadata and tensor infos, each
 * length and offset checked against the file), their ggml tensor types ({@link dev.tailor.io.gguf.GgmlType}: Q8_0,
 * Q4_0 and the K-quants kept quantized, their values ggml's by {@link dev.tailor.tensor.Quantization}), and a model's
 * tensors and config under their Hugging Face names and layout ({@link dev.tailor.io.gguf.GgufTensorSource},
 * {@link dev.tailor.io.gguf.GgufConfig}).
 */
package dev.tailor.io.gguf;
