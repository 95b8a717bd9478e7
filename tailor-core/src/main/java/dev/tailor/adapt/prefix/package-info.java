/**
 * Prefix tuning (Li and Liang, 2021) with PEFT's semantics: per layer,
 * {@code num_virtual_tokens} trainable keys and values that every query attends to before its own context, used as
 * they are (PEFT passes them as {@code past_key_values}: no RoPE), the real tokens at positions {@code P …}.
 * Saved in PEFT's layout: {@code adapter_config.json} with {@code peft_type} {@code PREFIX_TUNING} and the one
 * tensor {@code prompt_embeddings} {@code [P, layers·2·kvHeads·headDim]}. With {@code prefix_projection} the
 * keys and values are trained through PEFT's MLP ({@link dev.tailor.adapt.prefix.PrefixProjection}) and saved as
 * the MLP's output, as PEFT saves them.
 */
package dev.tailor.adapt.prefix;
