/**
 * The Llama family (llama, mistral, qwen2, qwen3) for inference: configuration ({@link dev.tailor.model.ModelConfig}),
 * weights read in place ({@link dev.tailor.model.LlamaWeights}), the network with its KV cache
 * ({@link dev.tailor.model.LlamaModel}), rotary embeddings, the causal-LM loss, a base's identity
 * ({@link dev.tailor.model.BaseFingerprint}) and the virtual-token hooks of prompt and prefix tuning
 * ({@link dev.tailor.model.VirtualTokens}). Adapters attach through the hooks of {@link dev.tailor.model.site};
 * nothing here knows a method.
 */
package dev.tailor.model;
