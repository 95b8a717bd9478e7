package dev.tailor.adapt;

import dev.tailor.model.site.Site;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A fresh adapter as {@link AdapterMethod#shape} works it out from the method's options and the base's config alone,
 * nothing allocated (so a 70B model's adapters cost nothing to describe): the tensors {@link AdapterMethod#create}
 * would make, by name and shape, its saved config, where its pieces sit and what they compute. The cost model reads
 * it; {@code AdapterMethodContractTest} holds every method's shape equal to the adapter it creates.
 *
 * <p>FLOPs count a multiply-add as two; "per row" is per row of the activations the piece sees (a token, or a
 * virtual token).
 *
 * @param trainable    its trainable tensors, each once, as {@link Adapter#parameters()} lists them
 * @param saved        its tensors as {@code adapter_model.safetensors} holds them ({@link Adapter#savedTensors()}),
 *                     float32
 * @param config       its {@code adapter_config.json} ({@link Adapter#config}) for the base name it was worked out for
 * @param pieces       its pieces at sites, with what each computes
 * @param promptTokens virtual tokens put in front of the input (prompt tuning), else 0
 * @param prefixTokens keys and values put in front of every attention's own (prefix tuning), else 0
 * @param passFlops    FLOPs of a training pass (forward and backward of one sequence) outside the pieces that do not
 *                     grow with its length: prefix tuning's encoder
 */
public record AdapterShape(List<Tensor> trainable, List<Tensor> saved, Map<String, Object> config, List<Piece> pieces,
                           int promptTokens, int prefixTokens, double passFlops) {

    /** Copies the lists. */
    public AdapterShape {
        trainable = List.copyOf(trainable);
        saved = List.copyOf(saved);
        config = Collections.unmodifiableMap(new LinkedHashMap<>(config));
        pieces = List.copyOf(pieces);
    }

    /**
     * One tensor, by the name it is saved or trained under.
     *
     * @param name  e.g. {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}
     * @param shape dimensions, outermost first
     */
    public record Tensor(String name, long[] shape) {
        /** Copies the shape. */
        public Tensor {
            shape = shape.clone();
        }

        /** Number of values. */
        public long size() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tensor t && name.equals(t.name) && Arrays.equals(shape, t.shape);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape);
        }
    }

    /**
     * One piece of the adapter at a site of block {@code layer}, and what it computes beyond the base's own work
     * there (which the cost model counts itself).
     *
     * @param layer         the block
     * @param site          the site within the block
     * @param forwardFlops  FLOPs of its forward per row
     * @param backwardFlops FLOPs of its backward per row: its tensors' gradients, its part of the input gradient and
     *                      whatever it recomputes (DoRA and (IA)³ recompute the base product)
     * @param savedValues   values its training forward keeps per row for the backward (LoRA's {@code s·x·Aᵀ})
     * @param savedPerPass  values its training forward keeps for the backward whatever the rows (LoRA's {@code Bᵀ})
     * @param passFlops     FLOPs per training pass whatever the rows (DoRA's row norms, a PHM layer's weight)
     */
    public record Piece(int layer, Site site, double forwardFlops, double backwardFlops, double savedValues,
                        double savedPerPass, double passFlops) {
    }

    /** Trainable parameters: the values of {@link #trainable}. */
    public long trainableCount() {
        return trainable.stream().mapToLong(Tensor::size).sum();
    }

    /** Values saved in {@code adapter_model.safetensors}. */
    public long savedCount() {
        return saved.stream().mapToLong(Tensor::size).sum();
    }

    /**
     * Values the adapter holds while it trains: its trainable tensors and the saved ones they are not (prefix tuning's
     * projected prefix), each once.
     */
    public long trainingCount() {
        Map<String, Long> byName = new LinkedHashMap<>();
        trainable.forEach(t -> byName.put(t.name(), t.size()));
        saved.forEach(t -> byName.putIfAbsent(t.name(), t.size()));
        return byName.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The values of the largest tensor. */
    public long largestTensor() {
        return Stream.concat(trainable.stream(), saved.stream()).mapToLong(Tensor::size).max()
                .orElse(0);
    }

    /** The lowest block a piece sits in, or -1 without pieces (prompt and prefix tuning sit at no site). */
    public int lowestLayer() {
        return pieces.stream().mapToInt(Piece::layer).min().orElse(-1);
    }

    /** FLOPs per training pass whatever its length: {@link #passFlops} and every piece's. */
    public double totalPassFlops() {
        return passFlops + pieces.stream().mapToDouble(Piece::passFlops).sum();
    }

    /**
     * The bytes {@link Adapter#save} writes: {@code adapter_model.safetensors} (float32) and
     * {@code adapter_config.json}, with {@code baseFingerprint} (may be null) in the safetensors metadata.
     */
    public long savedBytes(String baseFingerprint) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        saved.forEach(t -> shapes.put(t.name(), t.shape()));
        return AdapterFiles.savedBytes(config, shapes, baseFingerprint);
    }
}
