/**
 * The Hugging Face Hub and its local cache: {@link dev.tailor.hub.HfCache} (the {@code models--ORG--NAME} layout
 * huggingface_hub shares with transformers), {@link dev.tailor.hub.ModelLocator} (a directory, a GGUF file, a cached
 * {@code org/name[@revision]} or an Ollama model to the model's files), {@link dev.tailor.hub.OllamaStore} (Ollama's
 * local store: manifests naming GGUF blobs) and {@link dev.tailor.hub.HubClient} (resumable, verified
 * downloads into that cache with the Hub's HTTP API, for {@code tailor pull}). Environment variables are read from
 * an injected map, never directly, so behaviour is testable.
 */
package dev.tailor.hub;
