/**
 * LoRA (Hu et al., 2021) and its family with PEFT's semantics: at each targeted linear,
 * {@code h = W0·x + s·B·(A·dropout(x))} with {@code s = lora_alpha / r} (or {@code / sqrt(r)} with rsLoRA); A and B
 * train, W0 stays frozen. DoRA ({@code use_dora}) adds a trained magnitude per output row ({@link
 * dev.tailor.adapt.lora.DoraLayer}); {@code bias} {@code lora_only} / {@code all} trains base biases, which the
 * adapter carries ({@link dev.tailor.adapt.lora.BiasLayer}). Adapters are read and written in PEFT's file layout
 * ({@code adapter_config.json} + {@code adapter_model.safetensors}).
 */
package dev.tailor.adapt.lora;
