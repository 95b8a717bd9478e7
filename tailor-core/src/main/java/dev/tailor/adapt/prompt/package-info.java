/**
 * Prompt tuning (Lester et al., 2021) with PEFT's semantics: {@code num_virtual_tokens} trainable embeddings
 * {@code [P, hidden]} are prepended to the input embeddings of every sequence (positions {@code 0 … P−1}, the
 * real tokens follow at {@code P …}); the base stays frozen. Saved in PEFT's layout: {@code adapter_config.json}
 * with {@code peft_type} {@code PROMPT_TUNING} and the one tensor {@code prompt_embeddings}.
 */
package dev.tailor.adapt.prompt;
