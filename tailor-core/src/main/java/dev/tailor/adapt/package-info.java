/**
 * Adapters: small trainable pieces attached at the sites of a frozen base ({@link dev.tailor.model.site}). Each
 * method is one sub-package ({@code lora}, {@code ia3} …) that registers an {@link dev.tailor.adapt.AdapterMethod}
 * as a service; {@link dev.tailor.adapt.AdapterMethods} finds them, so this package never imports a method's.
 * Here too: the whole-adapter contract ({@link dev.tailor.adapt.Adapter}), the files every method shares
 * ({@link dev.tailor.adapt.AdapterFiles}), stacking, merging and serving several adapters on one base
 * ({@link dev.tailor.adapt.AdaptedModel}).
 */
package dev.tailor.adapt;
