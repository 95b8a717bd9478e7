package dev.tailor.cost;

/**
 * What one method costs, as {@link CostModel#estimate} works it out.
 *
 * @param method              the method's name ({@code full}, {@code lora} …)
 * @param description         what it trains, in a few words
 * @param baseParameters      the base's parameters
 * @param totalParameters     the trained model's: the base's plus an adapter's
 * @param trainableParameters the values trained
 * @param stopLayer           the lowest block the backward reaches (the layer count when none)
 * @param tokensPerSequence   the tokens of a packed sequence, after any cut for virtual tokens
 * @param memory              training memory
 * @param flops               training FLOPs per token
 * @param time                training time and money
 * @param artifactBytes       what {@code tailor train} saves: the adapter's two files, or the whole model's
 * @param modelBytes          one whole model as {@code tailor train} saves a fine-tuned one: what each tenant stores
 *                            when every tenant has its own copy
 * @param storage             storing the customized models of every tenant
 * @param serving             serving them from one process (weights and adapters; the KV cache apart)
 * @param kvCacheBytes        the KV cache of one sequence of {@code tokensPerSequence} tokens and any virtual ones
 */
public record CostEstimate(String method, String description, long baseParameters, long totalParameters,
                           long trainableParameters, int stopLayer, int tokensPerSequence, Memory memory, Flops flops,
                           Time time, long artifactBytes, long modelBytes, Tenants storage, Tenants serving,
                           long kvCacheBytes) {

    /** Trainable parameters as a percentage of the base's. */
    public double trainablePercent() {
        return 100.0 * trainableParameters / baseParameters;
    }

    /**
     * Training memory in bytes, for one sequence at a time (Tailor runs the sequences of a batch one after another and
     * adds their gradients, so the batch changes the time, not the memory).
     *
     * @param weights                the frozen weights at their precision and the trainable ones at theirs
     * @param gradients              one gradient per trainable value
     * @param optimizer              the optimizer's float32 state per trainable value
     * @param activations            the activations as the run keeps them (checkpointed or not)
     * @param withoutCheckpointing   the activations without gradient checkpointing
     * @param withCheckpointing      the activations with it
     * @param available              the hardware's memory
     * @param frozenInPlace          of the weights, the frozen matrices of a base in its own float type, which Tailor
     *                               reads in place from the file's mapping (outside the Java heap)
     */
    public record Memory(long weights, long gradients, long optimizer, long activations, long withoutCheckpointing,
                         long withCheckpointing, long available, long frozenInPlace) {
        /** The sum of the four. */
        public long total() {
            return weights + gradients + optimizer + activations;
        }

        /** Whether the total fits the hardware's memory. */
        public boolean fits() {
            return total() <= available;
        }
    }

    /**
     * Training FLOPs per (real) token, a multiply-add counting two.
     *
     * @param forward         the base network's forward: the linears, attention and the head
     * @param inputGradients  the backward's input gradients, down to the lowest trained block, attention's included
     * @param weightGradients the gradients of trainable base weights
     * @param recompute       gradient checkpointing's second forward of the trained blocks
     * @param adapter         the adapter's own work: its pieces forward and backward, and its per-pass work spread
     *                        over the sequence
     * @param attention       the part of the above that is attention's score and value products
     */
    public record Flops(double forward, double inputGradients, double weightGradients, double recompute,
                        double adapter, double attention) {
        /** All of it. */
        public double perToken() {
            return forward + inputGradients + weightGradients + recompute + adapter;
        }
    }

    /**
     * Training time and money.
     *
     * @param tokens           training tokens
     * @param totalFlops       {@code perToken × tokens}
     * @param updates          optimizer updates
     * @param computeSeconds   the FLOPs at the utilised peak
     * @param optimizerSeconds the updates' memory traffic at the hardware's bandwidth
     * @param money            the hours at the price
     */
    public record Time(long tokens, double totalFlops, long updates, double computeSeconds, double optimizerSeconds,
                       double money) {
        /** Seconds in all. */
        public double seconds() {
            return computeSeconds + optimizerSeconds;
        }
    }

    /**
     * Bytes for a number of tenants: what they share and what each needs.
     *
     * @param tenants   how many
     * @param shared    held once for all (the base)
     * @param perTenant held for each (an adapter, or a whole model)
     */
    public record Tenants(int tenants, long shared, long perTenant) {
        /** For all of them. */
        public long total() {
            return shared + tenants * perTenant;
        }
    }
}
