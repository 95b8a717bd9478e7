package dev.tailor.adapt;

import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.tokenizer.Tokenizer;

/**
 * The frozen base a fresh adapter is made for.
 *
 * @param config    the base's configuration
 * @param weights   its weights (DoRA reads the norms of the rows, prompt tuning's text init the embeddings)
 * @param tokenizer its tokenizer, or null when there is none (prompt tuning's text init needs one)
 * @param name      its name or path as adapters record it ({@code base_model_name_or_path}), or null
 */
public record AdapterBase(ModelConfig config, LlamaWeights weights, Tokenizer tokenizer, String name) {
}
