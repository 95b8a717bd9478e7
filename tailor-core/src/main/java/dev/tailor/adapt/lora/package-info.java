/**
 * LoRA (Hu et al., 2021) with PEFT's semantics: at each targeted linear, {@code h = W0·x + s·B·(A·x)} with
 * {@code s = lora_alpha / r} (or {@code / sqrt(r)} with rsLoRA); A and B train, W0 stays frozen. Adapters are
 * read in PEFT's file layout ({@code adapter_config.json} + {@code adapter_model.safetensors}).
 */
package dev.tailor.adapt.lora;
