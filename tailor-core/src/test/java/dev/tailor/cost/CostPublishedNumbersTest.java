package dev.tailor.cost;

import dev.tailor.train.optim.OptimizerType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cost model against figures published for real runs, each within a stated tolerance. The published runs used
 * PyTorch on GPUs, so each test sets the precisions and options those runs used; what differs in kind (an
 * architecture, a quantization format) is said where it matters.
 */
class CostPublishedNumbersTest {

    /**
     * LoRA (Hu et al., 2021, §4.2 "Practical Benefits and Limitations"): on GPT-3 175B with r = 4 and only the query and
     * value projections adapted, "the checkpoint size is reduced by roughly 10,000× (from 350GB to 35MB)". GPT-3's
     * shape is costed as a Llama-style model ({@link CostConfigs#gpt3}); both checkpoints are 16-bit, while Tailor saves
     * adapters in float32, so the adapter's figure is halved for the comparison. Tolerance: 10% on each figure.
     */
    @Test
    void loraOnGpt3ShrinksThe350GbCheckpointToAbout35MbWithin10Percent() {
        CostSettings settings = CostSettings.defaults(CostConfigs.h100()).withPrecisions(Precision.F16, Precision.F16,
                Precision.F16);
        CostEstimate full = CostModel.estimate(CostConfigs.gpt3(), CostConfigs.full(), settings);
        CostEstimate lora = CostModel.estimate(CostConfigs.gpt3(), CostConfigs.method("lora", "r", "4",
                "target_modules", "q_proj,v_proj"), settings);
        within(350e9, full.artifactBytes(), 0.10, "the full 16-bit checkpoint");
        within(35e6, lora.artifactBytes() / 2.0, 0.10, "the r=4 adapter in 16 bits");
        within(10_000, (double) full.artifactBytes() / (lora.artifactBytes() / 2.0), 0.10, "the checkpoint ratio");
    }

    /**
     * LoRA (Hu et al., 2021, abstract): "LoRA can reduce the number of trainable parameters by 10,000 times" against
     * fine-tuning GPT-3 175B; with r = 4 on queries and values that is 96 layers × 2 projections × 4 × (12288 + 12288)
     * = 18.9 M trainable parameters. Tolerance: 10%.
     */
    @Test
    void loraOnGpt3TrainsAbout10000TimesFewerParametersWithin10Percent() {
        CostSettings settings = CostSettings.defaults(CostConfigs.h100());
        CostEstimate full = CostModel.estimate(CostConfigs.gpt3(), CostConfigs.full(), settings);
        CostEstimate lora = CostModel.estimate(CostConfigs.gpt3(), CostConfigs.method("lora", "r", "4",
                "target_modules", "q_proj,v_proj"), settings);
        within(175e9, full.trainableParameters(), 0.01, "GPT-3's parameters");
        within(10_000, (double) full.trainableParameters() / lora.trainableParameters(), 0.10,
                "fewer trainable parameters");
    }

    /**
     * QLoRA (Dettmers et al., 2023, abstract): "enough to finetune a 65B parameter model on a single 48GB GPU". Its
     * recipe: the base in 4-bit NormalFloat with double quantization ({@link Precision#NF4}), LoRA with r = 64 on every
     * linear layer (§5.1 and Appendix B), the adapters and computation in BF16, gradient checkpointing, a paged 32-bit
     * AdamW (paging aside: its state is counted in memory, as float32), sequences of 512 tokens one at a time.
     * Tolerance: the total below 48 GB (10^9 bytes), and above 40 GB, which the 4-bit base and the adapter's training
     * state alone nearly fill.
     */
    @Test
    void qloraFineTunesLlama65bInUnder48Gb() {
        CostSettings settings = new CostSettings(512, 1, 16, CostSettings.DEFAULT_TOKENS, Precision.NF4, Precision.BF16,
                Precision.BF16, true, OptimizerType.ADAMW, null, CostConfigs.h100(), null, null, 1);
        CostEstimate qlora = CostModel.estimate(CostConfigs.llama65b(), CostConfigs.method("lora", "r", "64",
                "lora_alpha", "16", "lora_dropout", "0.05", "target_modules", "all-linear"), settings);
        long total = qlora.memory().total();
        assertTrue(total < 48e9 && total > 40e9, "QLoRA 65B needs " + total / 1e9 + " GB: " + qlora.memory());
    }

    /**
     * LLaMA-Factory's hardware table (README, "Hardware Requirement", estimated GPU memory for 7B models): full
     * fine-tuning with mixed precision ({@code bf16}, 32-bit weights and optimizer) 120 GB; LoRA on a 16-bit base
     * 16 GB; QLoRA on an 8-bit base 10 GB and on a 4-bit base 6 GB. Costed as LLaMA-Factory trains by default:
     * sequences of 2048 tokens one at a time, BF16 activations with gradient checkpointing, LoRA r = 8 on every
     * linear layer (its examples' {@code lora_target: all}) in BF16, AdamW; its 8-bit base as {@link Precision#Q8_0},
     * its 4-bit one as NF4. Its figures are rounded rules of thumb that include the framework's overhead (CUDA context,
     * allocator), which the model leaves out (it comes out 6 to 10% under each). Tolerance: 15%.
     */
    @Test
    void llamaFactorysMemoryTableFor7bModelsWithin15Percent() {
        CostSettings base = new CostSettings(2048, 1, 8, CostSettings.DEFAULT_TOKENS, null, Precision.F32,
                Precision.BF16, true, OptimizerType.ADAMW, null, CostConfigs.h100(), null, null, 1);
        CostEstimate full = CostModel.estimate(CostConfigs.llama7b(), CostConfigs.full(), base);
        within(120e9, full.memory().total(), 0.15, "full fine-tuning, 32-bit: " + full.memory());
        String[] lora = {"r", "8", "target_modules", "all-linear"};
        CostEstimate lora16 = CostModel.estimate(CostConfigs.llama7b(), CostConfigs.method("lora", lora),
                base.withPrecisions(Precision.BF16, Precision.BF16, Precision.BF16));
        within(16e9, lora16.memory().total(), 0.15, "LoRA on a 16-bit base: " + lora16.memory());
        CostEstimate qlora8 = CostModel.estimate(CostConfigs.llama7b(), CostConfigs.method("lora", lora),
                base.withPrecisions(Precision.Q8_0, Precision.BF16, Precision.BF16));
        within(10e9, qlora8.memory().total(), 0.15, "QLoRA on an 8-bit base: " + qlora8.memory());
        CostEstimate qlora4 = CostModel.estimate(CostConfigs.llama7b(), CostConfigs.method("lora", lora),
                base.withPrecisions(Precision.NF4, Precision.BF16, Precision.BF16));
        within(6e9, qlora4.memory().total(), 0.15, "QLoRA on a 4-bit base: " + qlora4.memory());
    }

    private static void within(double expected, double actual, double tolerance, String what) {
        assertTrue(Math.abs(actual - expected) <= tolerance * expected, what + ": expected " + expected + " within "
                + Math.round(tolerance * 100) + "%, got " + actual + " (" + Math.round(100 * (actual / expected - 1))
                + "%)");
    }
}
