/**
 * Compacter and Compacter++ (Karimi Mahabadi et al., 2021) with AdapterHub's names and defaults: bottleneck
 * adapters at sublayer outputs ({@code out = h + up(gelu(down(h)))}) whose projections are parameterised
 * hypercomplex multiplication layers, {@code Σ_i A_i ⊗ W_i} with rule matrices {@code A_i} shared across all
 * layers and factorised {@code W_i}. Compacter sits after attention and after the MLP of every block (Houlsby
 * placement), Compacter++ after the MLP only (Pfeiffer placement). Saved in Tailor's own directory format
 * ({@code "peft_type": "COMPACTER"}).
 */
package dev.tailor.adapt.compacter;
