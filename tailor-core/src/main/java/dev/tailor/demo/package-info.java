/**
 * {@code tailor demo}'s engine part: a synthetic customer-support world made from a seed ({@link
 * dev.tailor.demo.SupportCorpus}: fictional client companies with their own products, facts and tone, an industry's
 * know-how, general text), a tokenizer trained on it, a small Llama pre-trained on it, a domain fine-tune, one LoRA
 * adapter per client and the other methods on one client, every model scored on held-out questions ({@link
 * dev.tailor.demo.FactScorer}), and the report ({@link dev.tailor.demo.Demo}). The server part (the clients' adapters
 * served, a canary and a rollback) is the command line's, which records it as a {@link
 * dev.tailor.demo.ServingRecord}.
 */
package dev.tailor.demo;
