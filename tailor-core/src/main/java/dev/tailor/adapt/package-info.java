/**
 * Adapters: small trainable pieces attached at named sites of a frozen base (DESIGN.md, "methods at sites").
 * {@link dev.tailor.model.site.LinearHook} is the contract at a linear site, shared by training and inference;
 * each method lives in its own sub-package ({@code lora} …).
 */
package dev.tailor.adapt;
