package dev.tailor.cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;
import java.util.TreeMap;

/**
 * What Tailor's own training kernels take on this machine, measured once ({@link KernelCalibration}): the matrix
 * products of a linear layer's forward, input gradient and weight gradient over a grid of shapes, the seconds per
 * value of the element-wise work around them, the optimizer's seconds per trainable value and tensor, and what a
 * training pass costs beyond all of that. {@link PassTime} prices a training step with them, each product by its own
 * shape.
 *
 * @param forward          {@code Y = X·Wᵀ} ({@code tensor.MatMul}: the streaming kernel below 12 rows, the packed
 *                         GEMM from there)
 * @param inputGrad        {@code dX = dY·W} ({@code tensor.InputGradGemm})
 * @param weightGrad       {@code dW += dYᵀ·X} ({@code tensor.WeightGradGemm})
 * @param attention        attention's products ({@code tensor.MatMulNN}) on one thread, as each attention task runs
 *                         them
 * @param normForward      seconds per value of an RMSNorm's forward
 * @param normBackward     seconds per value of its input gradient
 * @param rope             seconds per value rotated by RoPE (forward or inverse)
 * @param softmax          seconds per value of a softmax row's maximum and shifted exponentials (attention's
 *                         probabilities, the loss over the vocabulary)
 * @param silu             seconds per value of SwiGLU's forward (its backward, an exponential and a few products
 *                         more, is priced at twice that)
 * @param add              seconds per value of an element-wise sum (residuals, gradient sums)
 * @param optimizerValue   seconds per trainable value of an update: the gradients zeroed, their norm clipped, AdamW's
 *                         step
 * @param optimizerTensor  seconds per trainable tensor of an update, beyond its values
 * @param pass             seconds of a training pass over one sequence beyond what the rest prices (allocation,
 *                         copies, the loss's bookkeeping), measured on small models
 * @param block            seconds of one trained block's pass beyond what the rest prices
 * @param headChunk        seconds of each chunk of a frozen head's loss beyond its products and softmax
 * @param headChunkRow     and per row with a loss in it
 * @param adapters         by adapter method, what its pieces cost beyond their FLOPs (their own calls)
 */
public record KernelTimes(ProductGrid forward, ProductGrid inputGrad, ProductGrid weightGrad, ProductGrid attention,
                          double normForward, double normBackward, double rope, double softmax, double silu, double add,
                          double optimizerValue, double optimizerTensor, double pass, double block, double headChunk,
                          double headChunkRow, Map<String, AdapterOverhead> adapters) {

    /**
     * What an adapter method's training costs beyond the FLOPs of its pieces.
     *
     * @param pass  seconds per training pass
     * @param piece seconds per piece per training pass
     */
    public record AdapterOverhead(double pass, double piece) {
    }

    /** Kernel times without head-chunk or adapter overheads. */
    public KernelTimes(ProductGrid forward, ProductGrid inputGrad, ProductGrid weightGrad, ProductGrid attention,
                       double normForward, double normBackward, double rope, double softmax, double silu, double add,
                       double optimizerValue, double optimizerTensor, double pass, double block) {
        this(forward, inputGrad, weightGrad, attention, normForward, normBackward, rope, softmax, silu, add,
                optimizerValue, optimizerTensor, pass, block, 0, 0, Map.of());
    }

    /** What adapter method {@code name} costs beyond its FLOPs; nothing for a method not measured. */
    public AdapterOverhead adapter(String name) {
        return adapters.getOrDefault(name, new AdapterOverhead(0, 0));
    }

    /**
     * Checks the rates.
     *
     * @throws IllegalArgumentException naming the figure that is negative or not finite
     */
    public KernelTimes {
        if (forward == null || inputGrad == null || weightGrad == null || attention == null) {
            throw new IllegalArgumentException("kernel times need the forward, input-gradient, weight-gradient and "
                    + "attention product grids");
        }
        nonNegative("norm_forward", normForward);
        nonNegative("norm_backward", normBackward);
        nonNegative("rope", rope);
        nonNegative("softmax", softmax);
        nonNegative("silu", silu);
        nonNegative("add", add);
        nonNegative("optimizer_value", optimizerValue);
        nonNegative("optimizer_tensor", optimizerTensor);
        nonNegative("pass", pass);
        nonNegative("block", block);
        nonNegative("head_chunk", headChunk);
        nonNegative("head_chunk_row", headChunkRow);
        adapters = Map.copyOf(adapters);
        adapters.forEach((name, o) -> {
            nonNegative(name + ".pass", o.pass());
            nonNegative(name + ".piece", o.piece());
        });
    }

    private static void nonNegative(String field, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("kernel times: " + field + " must be a finite number >= 0, got "
                    + value);
        }
    }

    /** These times with the overheads of a pass, a block, a head chunk and the adapters set. */
    KernelTimes withOverheads(double passSeconds, double blockSeconds, double chunkSeconds, double chunkRowSeconds,
                              Map<String, AdapterOverhead> adapterOverheads) {
        return new KernelTimes(forward, inputGrad, weightGrad, attention, normForward, normBackward, rope, softmax,
                silu, add, optimizerValue, optimizerTensor, passSeconds, blockSeconds, chunkSeconds, chunkRowSeconds,
                adapterOverheads);
    }

    /** As JSON, rates in seconds. */
    ObjectNode json() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.set("forward", forward.json());
        n.set("input_grad", inputGrad.json());
        n.set("weight_grad", weightGrad.json());
        n.set("attention", attention.json());
        n.put("norm_forward", normForward).put("norm_backward", normBackward).put("rope", rope)
                .put("softmax", softmax).put("silu", silu).put("add", add).put("optimizer_value", optimizerValue)
                .put("optimizer_tensor", optimizerTensor).put("pass", pass).put("block", block)
                .put("head_chunk", headChunk).put("head_chunk_row", headChunkRow);
        ObjectNode a = n.putObject("adapters");
        new TreeMap<>(adapters).forEach((name, o) -> a.putObject(name).put("pass", o.pass()).put("piece", o.piece()));
        return n;
    }

    /**
     * Read back from {@link #json()}.
     *
     * @throws IllegalArgumentException when a figure is missing or wrong
     */
    static KernelTimes of(JsonNode n) {
        return new KernelTimes(ProductGrid.of(n.path("forward")), ProductGrid.of(n.path("input_grad")),
                ProductGrid.of(n.path("weight_grad")), ProductGrid.of(n.path("attention")),
                number(n, "norm_forward"), number(n, "norm_backward"), number(n, "rope"), number(n, "softmax"),
                number(n, "silu"), number(n, "add"), number(n, "optimizer_value"), number(n, "optimizer_tensor"),
                number(n, "pass"), number(n, "block"), number(n, "head_chunk"), number(n, "head_chunk_row"),
                adapters(n.path("adapters")));
    }

    private static Map<String, AdapterOverhead> adapters(JsonNode n) {
        if (!n.isObject()) {
            throw new IllegalArgumentException("kernel times: adapters must be an object, got " + n);
        }
        Map<String, AdapterOverhead> out = new TreeMap<>();
        n.properties().forEach(e -> out.put(e.getKey(), new AdapterOverhead(number(e.getValue(), "pass"),
                number(e.getValue(), "piece"))));
        return out;
    }

    private static double number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException("kernel times: " + field + " must be a number, got " + v);
        }
        return v.asDouble();
    }
}
