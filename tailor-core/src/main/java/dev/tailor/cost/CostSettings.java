package dev.tailor.cost;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.train.optim.OptimizerType;

/**
 * How a run is costed: its shape, precisions and optimizer, the machine and its price, and how many tenants are served.
 * Option names in messages are the engine's ({@code seq_len}); {@code tailor cost} shows them as its flags.
 *
 * @param seqLen                tokens per packed sequence (cut, as {@code tailor train} cuts it, to what the model's
 *                              context leaves after virtual tokens)
 * @param batchSize             sequences per micro-batch
 * @param gradAccum             micro-batches per optimizer update
 * @param tokens                training tokens in all
 * @param baseDtype             the frozen base weights' precision, or null for the base's own ({@code torch_dtype});
 *                              a quantized one applies to the blocks' linear weights, the embeddings and
 *                              {@code lm_head} staying BF16 (as QLoRA keeps them)
 * @param trainableDtype        the trainable weights' and their gradients' precision (Tailor trains in F32)
 * @param activationDtype       the precision activations are kept and products computed in (Tailor: F32); it picks
 *                              the hardware's peak (F32, or the 16-bit one)
 * @param gradientCheckpointing recompute each trained block's activations in the backward instead of keeping them
 * @param optimizer             the optimizer, whose state is float32 (AdamW: two moments; SGD: one momentum)
 * @param saveDtype             the precision a fine-tuned model is saved in, or null for the base's (BF16 for a
 *                              quantized base)
 * @param hardware              the machine
 * @param pricePerHour          its price per hour, or null for the profile's
 * @param utilization           the share of its peak the run reaches, or null for the profile's
 * @param tenants               the customized models served and stored side by side
 * @param lossShare             the share of a sequence's tokens that carry a loss, in (0, 1]: 1 for text, less for
 *                              prompt-completion, chat and classification data, whose prompts carry none (the head
 *                              computes logits only for the tokens that do)
 */
public record CostSettings(int seqLen, int batchSize, int gradAccum, long tokens, Precision baseDtype,
                           Precision trainableDtype, Precision activationDtype, boolean gradientCheckpointing,
                           OptimizerType optimizer, Precision saveDtype, HardwareProfile hardware, Double pricePerHour,
                           Double utilization, int tenants, double lossShare) {

    /** The training tokens when none are given: a million, a round figure to scale from. */
    public static final long DEFAULT_TOKENS = 1_000_000;

    /**
     * Checks the settings.
     *
     * @throws InvalidOptionException naming the option whose value cannot be used
     */
    public CostSettings {
        atLeastOne("seq_len", seqLen);
        atLeastOne("batch_size", batchSize);
        atLeastOne("grad_accum", gradAccum);
        atLeastOne("tenants", tenants);
        if (tokens < 0) {
            throw new InvalidOptionException("tokens", "tokens must be >= 0, got " + tokens);
        }
        if (!trainableDtype.isFloat()) {
            throw new InvalidOptionException("trainable_dtype", "trainable_dtype must be F32, BF16 or F16, got "
                    + trainableDtype);
        }
        if (!activationDtype.isFloat()) {
            throw new InvalidOptionException("activation_dtype", "activation_dtype must be F32, BF16 or F16, got "
                    + activationDtype);
        }
        if (saveDtype != null && !saveDtype.isFloat()) {
            throw new InvalidOptionException("save_dtype", "save_dtype must be F32, BF16 or F16, got " + saveDtype);
        }
        if (pricePerHour != null && !(pricePerHour >= 0 && pricePerHour < Double.POSITIVE_INFINITY)) {
            throw new InvalidOptionException("price_per_hour", "price_per_hour must be >= 0, got " + pricePerHour);
        }
        if (utilization != null && !(utilization > 0 && utilization <= 1)) {
            throw new InvalidOptionException("utilization", "utilization must be in (0, 1], got " + utilization);
        }
        if (hardware == null) {
            throw new InvalidOptionException("hardware", "a hardware profile is needed");
        }
        if (!(lossShare > 0 && lossShare <= 1)) {
            throw new InvalidOptionException("loss_share", "loss_share must be in (0, 1], got " + lossShare);
        }
    }

    /** These settings with every token carrying a loss (text). */
    public CostSettings(int seqLen, int batchSize, int gradAccum, long tokens, Precision baseDtype,
                        Precision trainableDtype, Precision activationDtype, boolean gradientCheckpointing,
                        OptimizerType optimizer, Precision saveDtype, HardwareProfile hardware, Double pricePerHour,
                        Double utilization, int tenants) {
        this(seqLen, batchSize, gradAccum, tokens, baseDtype, trainableDtype, activationDtype, gradientCheckpointing,
                optimizer, saveDtype, hardware, pricePerHour, utilization, tenants, 1);
    }

    /**
     * {@code tailor train}'s defaults on {@code hardware}: sequences of 512, batches of 4, one micro-batch per
     * update, {@value #DEFAULT_TOKENS} tokens, the base's precision, F32 weights, gradients and activations, no
     * checkpointing, AdamW, the profile's price and utilisation, one tenant.
     */
    public static CostSettings defaults(HardwareProfile hardware) {
        return new CostSettings(512, 4, 1, DEFAULT_TOKENS, null, Precision.F32, Precision.F32, false,
                OptimizerType.ADAMW, null, hardware, null, null, 1);
    }

    /** These settings with {@code seqLen} and {@code batchSize}. */
    public CostSettings withShape(int seqLen, int batchSize) {
        return new CostSettings(seqLen, batchSize, gradAccum, tokens, baseDtype, trainableDtype, activationDtype,
                gradientCheckpointing, optimizer, saveDtype, hardware, pricePerHour, utilization, tenants, lossShare);
    }

    /** These settings with the precisions of frozen weights (null: the base's), trainable weights and activations. */
    public CostSettings withPrecisions(Precision base, Precision trainable, Precision activations) {
        return new CostSettings(seqLen, batchSize, gradAccum, tokens, base, trainable, activations,
                gradientCheckpointing, optimizer, saveDtype, hardware, pricePerHour, utilization, tenants, lossShare);
    }

    /** These settings with gradient checkpointing on or off. */
    public CostSettings withCheckpointing(boolean on) {
        return new CostSettings(seqLen, batchSize, gradAccum, tokens, baseDtype, trainableDtype, activationDtype, on,
                optimizer, saveDtype, hardware, pricePerHour, utilization, tenants, lossShare);
    }

    /** These settings with {@code tokens} training tokens. */
    public CostSettings withTokens(long tokens) {
        return new CostSettings(seqLen, batchSize, gradAccum, tokens, baseDtype, trainableDtype, activationDtype,
                gradientCheckpointing, optimizer, saveDtype, hardware, pricePerHour, utilization, tenants, lossShare);
    }

    /** These settings with {@code tenants} tenants. */
    public CostSettings withTenants(int tenants) {
        return new CostSettings(seqLen, batchSize, gradAccum, tokens, baseDtype, trainableDtype, activationDtype,
                gradientCheckpointing, optimizer, saveDtype, hardware, pricePerHour, utilization, tenants, lossShare);
    }

    /** These settings with {@code share} of every sequence's tokens carrying a loss. */
    public CostSettings withLossShare(double share) {
        return new CostSettings(seqLen, batchSize, gradAccum, tokens, baseDtype, trainableDtype, activationDtype,
                gradientCheckpointing, optimizer, saveDtype, hardware, pricePerHour, utilization, tenants, share);
    }

    /**
     * Whether the time is priced from the machine's measured kernels, shape by shape: on a profile that has them
     * ({@code this-machine}) unless a utilisation is given, which prices it at the peak times that utilisation.
     */
    public boolean kernelPriced() {
        return hardware.kernels() != null && utilization == null;
    }

    /** The price per hour used: the given one, else the profile's. */
    public double price() {
        return pricePerHour != null ? pricePerHour : hardware.pricePerHour();
    }

    /** The utilisation used: the given one, else the profile's. */
    public double effectiveUtilization() {
        return utilization != null ? utilization : hardware.utilization();
    }

    private static void atLeastOne(String option, long value) {
        if (value < 1) {
            throw new InvalidOptionException(option, option + " must be at least 1, got " + value);
        }
    }
}
