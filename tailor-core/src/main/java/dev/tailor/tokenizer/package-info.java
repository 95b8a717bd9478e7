/**
 * Tokenizers read from a model's {@code tokenizer.json} (the Hugging Face {@code tokenizers} format) and
 * {@code tokenizer_config.json}: SentencePiece-style BPE with byte fallback (Llama 2, Mistral, TinyLlama) and
 * byte-level BPE (Llama 3, Qwen2/3, GPT-2, SmolLM). {@link dev.tailor.tokenizer.Tokenizers#load} is the entry point.
 */
package dev.tailor.tokenizer;
