/**
 * Training: one run from its settings to its output ({@link dev.tailor.train.TrainingRun}), the training loop
 * ({@link dev.tailor.train.Trainer}), what trains ({@link dev.tailor.train.TrainingMethod}: base weights by a
 * {@link dev.tailor.train.FreezePlan}, or a registered adapter method), evaluation, metrics and the export of a
 * fine-tuned model. Sub-packages: {@code data} (datasets and packing), {@code nn} (the training network),
 * {@code optim} (optimizers and schedules), {@code checkpoint}.
 */
package dev.tailor.train;
