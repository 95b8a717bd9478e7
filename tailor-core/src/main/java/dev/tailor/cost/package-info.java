/**
 * What training a method costs, and serving what it makes, worked out before anything runs
 * ({@link dev.tailor.cost.CostModel}): parameters, memory (weights, gradients, optimizer state, activations), FLOPs
 * per token, time and money on a {@link dev.tailor.cost.HardwareProfile}, the artifact, and the storage and serving of
 * several tenants. The formulas follow this codebase's training network ({@link dev.tailor.cost.ActivationMemory},
 * {@link dev.tailor.cost.TrainingFlops}); each adapter method describes its own adapter
 * ({@link dev.tailor.adapt.AdapterMethod#shape}). Hardware profiles are data ({@code hardware.json}, extended by a
 * user's file), and {@code this-machine} is measured with Tailor's kernels ({@link dev.tailor.cost.MachineCalibration}).
 */
package dev.tailor.cost;
