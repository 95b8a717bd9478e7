/**
 * The sites of a Llama-family block and the hooks adapters implement there: the catalogue of sites
 * ({@link dev.tailor.model.site.LinearSite}, {@link dev.tailor.model.site.SublayerSite}), the hook at a linear
 * ({@link dev.tailor.model.site.LinearHook}) and at a sublayer output ({@link dev.tailor.model.site.SublayerHook}),
 * and one adapter's pieces by site ({@link dev.tailor.model.site.AdapterSites}). Both networks, inference and
 * training, call these hooks; this package imports nothing of Tailor but {@code tensor}.
 */
package dev.tailor.model.site;
