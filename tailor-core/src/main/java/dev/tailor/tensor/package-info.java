/**
 * Dense float32 compute: weights read in place ({@link dev.tailor.tensor.WeightMatrix}, F32/BF16/F16),
 * the matrix products ({@link dev.tailor.tensor.MatMul}), the element-wise kernels of the forward pass
 * ({@link dev.tailor.tensor.Ops}, {@link dev.tailor.model.RopeTables}), their scalar test oracles
 * ({@link dev.tailor.tensor.ScalarKernels}) and the kernels' thread pool ({@link dev.tailor.tensor.Parallel}).
 * Kernels use the Vector API at the preferred species width.
 */
package dev.tailor.tensor;
