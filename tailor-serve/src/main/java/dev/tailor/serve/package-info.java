/**
 * Tailor's HTTP server: OpenAI-compatible completions and chat completions over one base model and named adapters
 * ({@link dev.tailor.serve.TailorServer}), with vLLM's endpoints to load and unload adapters at run time. Depends on
 * the engine ({@code dev.tailor.*} of tailor-core) and nothing of the CLI.
 */
package dev.tailor.serve;
