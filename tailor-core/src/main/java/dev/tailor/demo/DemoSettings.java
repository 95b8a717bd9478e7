package dev.tailor.demo;

import dev.tailor.compare.MethodSpec;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * How big the demo is: its corpus, its model and how long each step trains. {@link #FULL} is what
 * {@code tailor demo} runs; {@link #QUICK} runs every step with a smaller model and fewer updates (for tests).
 *
 * @param name          {@code full} or {@code quick}
 * @param seed          seeds the corpus, the weights and the data order
 * @param companies     generic companies per industry in the pre-training and the domain text
 * @param vocabSize     the tokenizer's vocabulary, at most
 * @param hidden        the model's hidden size
 * @param layers        its layers
 * @param heads         its attention heads
 * @param kvHeads       its key/value heads
 * @param intermediate  its MLP's inner size
 * @param seqLen        tokens per packed training sequence
 * @param batchSize     sequences per update of pre-training and the domain fine-tune
 * @param taskBatchSize sequences per update on a client's task
 * @param baseSteps     pre-training updates
 * @param domainSteps   updates of the domain fine-tune
 * @param adapterSteps  updates of each client's adapter (and of each method compared on the first client)
 * @param baseLr        pre-training's peak learning rate
 * @param fineTuneLr    full and partial fine-tuning's
 * @param adapterLr     LoRA's and DoRA's
 * @param ia3Lr         IA³'s (it scales activations, so it moves slowly at an adapter's rate)
 * @param methods       the methods trained on the first client besides its LoRA adapter, scored on its held-out facts
 * @param compared      the methods {@code tailor compare}'s engine measures on the first client's task
 * @param compareSteps  the updates of each compared method
 */
public record DemoSettings(String name, long seed, int companies, int vocabSize, int hidden, int layers, int heads,
                           int kvHeads, int intermediate, int seqLen, int batchSize, int taskBatchSize, int baseSteps,
                           int domainSteps, int adapterSteps, double baseLr, double fineTuneLr, double adapterLr,
                           double ia3Lr, List<String> methods, List<String> compared, int compareSteps) {

    /** What {@code tailor demo} runs. */
    public static final DemoSettings FULL = new DemoSettings("full", 7, 120, 1024, 128, 4, 4, 2, 352, 256, 8, 4, 250,
            100, 120, 3e-3, 1e-3, 1e-2, 3e-2, List.of("full", "partial", "ia3"), MethodSpec.DEFAULT_METHODS, 30);

    /** Every step, smaller and shorter: a model of 2 layers of 64, tens of updates. */
    public static final DemoSettings QUICK = new DemoSettings("quick", 7, 12, 512, 64, 2, 2, 1, 176, 128, 4, 4, 40,
            10, 10, 3e-3, 1e-3, 1e-2, 3e-2, List.of("full", "partial", "ia3"), List.of("lora", "ia3"), 4);

    /** Copies the method list. */
    public DemoSettings {
        methods = List.copyOf(methods);
        compared = List.copyOf(compared);
    }

    /** The model's {@code config.json} for a vocabulary of {@code vocab} tokens ({@code <s>} 0, {@code </s>} 1). */
    public ObjectNode modelConfig(int vocab) {
        ObjectNode c = DemoFiles.JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("vocab_size", vocab);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("max_position_embeddings", 256);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", true);
        c.put("attention_bias", false);
        c.put("bos_token_id", 0);
        c.put("eos_token_id", 1);
        c.put("torch_dtype", "float32");
        return c;
    }
}
