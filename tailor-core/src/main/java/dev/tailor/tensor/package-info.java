/**
 * Dense float32 compute: weights read in place ({@link dev.tailor.tensor.WeightMatrix}, F32/BF16/F16, and ggml's
 * block-quantized Q8_0/Q4_0, multiplied in place, and Q4_K/Q5_K/Q6_K, dequantized by
 * {@link dev.tailor.tensor.Quantization}),
 * the matrix products ({@link dev.tailor.tensor.MatMul}), the element-wise kernels of the forward pass
 * ({@link dev.tailor.tensor.Ops}), their scalar test oracles ({@link dev.tailor.tensor.ScalarKernels}), the
 * kernels' thread pool ({@link dev.tailor.tensor.Parallel}), trainable tensors ({@link dev.tailor.tensor.Parameter})
 * and the linear algebra adapters need ({@link dev.tailor.tensor.Svd}). The ground floor: it imports no other
 * package of Tailor.
 * Kernels use the Vector API at the preferred species width.
 */
package dev.tailor.tensor;
