/**
 * The measured comparison of training methods ({@code tailor compare}): each method trained on one base, data, step
 * budget and seed in a process of its own, measured (parameters, time, tokens/s, peak memory, artifact, eval loss or
 * accuracy), set beside what {@link dev.tailor.cost.CostModel} predicted for the same run, projected onto another
 * machine and model, and written as JSON, Markdown and a self-contained HTML page.
 */
package dev.tailor.compare;
