/**
 * Bottleneck adapters with AdapterHub's names and defaults: {@code seq_bn} (Pfeiffer et al., 2020: one adapter after
 * the feed-forward block, reduction factor 16, ReLU) and {@code double_seq_bn} (Houlsby et al., 2019: one after
 * attention and one after the feed-forward block, reduction factor 16, swish). Each adapter is
 * {@code out = h + up(act(down(h)))} on a sublayer output; the up-projection starts at zero so the adapter starts as
 * the identity. PEFT has no such method, so they are saved in Tailor's own directory format
 * ({@code "peft_type": "BOTTLENECK"}).
 */
package dev.tailor.adapt.bottleneck;
