/**
 * Fine-tuning as a service: OpenAI's files and fine-tuning jobs API on {@code tailor serve}
 * ({@link dev.tailor.serve.jobs.FineTuningApi}), the jobs, files, events and checkpoints in the registry's database
 * ({@link dev.tailor.serve.jobs.JobStore}), and the workers that claim jobs from it, train, register, evaluate and roll
 * out the adapters ({@link dev.tailor.serve.jobs.Worker}). Builds on {@code dev.tailor.serve}, which never imports it.
 */
package dev.tailor.serve.jobs;
