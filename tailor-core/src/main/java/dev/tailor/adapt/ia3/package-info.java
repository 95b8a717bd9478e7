/**
 * (IA)³ (Liu et al., 2022, "Infused Adapter by Inhibiting and Amplifying Inner Activations") with PEFT's semantics:
 * a learned vector {@code ia3_l} per targeted linear, multiplying the linear's output (bias included) or, for the
 * feed-forward modules, its input; initialised to ones so the adapter starts as the identity, and mergeable into the
 * weights. Adapters are read and written in PEFT's file layout ({@code adapter_config.json} with
 * {@code "peft_type": "IA3"} + {@code adapter_model.safetensors}).
 */
package dev.tailor.adapt.ia3;
