package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.cost.CostEstimate;
import dev.tailor.train.TrainingMethod;

/**
 * What was predicted for one measured run before it ran, on this machine's profile and for the tokens it trained on:
 * the time (the cost model's, on {@code this-machine} from its measured kernels product by product, and the process's
 * warm-up, {@link RuntimeBaseline}) and the process's peak resident memory, as the sum of
 * <ul>
 *   <li>the Java runtime's own memory outside the heap ({@link RuntimeBaseline}, measured once);</li>
 *   <li>the young generation, which a training run fills with short-lived temporaries again and again (fixed by the
 *   child's {@code -Xmn});</li>
 *   <li>the old generation: its live objects — the cost model's training memory (weights, gradients, optimizer state,
 *   activations) less the frozen weights read in place from the base's mapping, and the tokenizer and loaded data
 *   ({@link DataFootprint}) — and the headroom the comparison gives it (half of them, at least
 *   {@value #MIN_HEADROOM_MIB} MiB), where objects the
 *   collector has not reclaimed yet gather until a full collection: the child's heap is capped at the young
 *   generation and this ({@link #heapBytes()}), and a run long enough fills it;</li>
 *   <li>the base's weight files, mapped and read.</li>
 * </ul>
 *
 * @param trainableParameters the values trained
 * @param flopsPerToken       training FLOPs per token
 * @param lossShare           the share of the training tokens that carry a loss (from the data)
 * @param seconds             training time for the run's tokens: the cost model's, and the process's warm-up
 * @param warmupSeconds       of that, the warm-up: a fresh process's first updates before the compiler is done
 * @param weightsBytes        training memory: weights
 * @param gradientsBytes      gradients
 * @param optimizerBytes      optimizer state
 * @param activationsBytes    activations
 * @param frozenInPlaceBytes  of the weights, the frozen ones read in place from the base's mapping (not on the heap)
 * @param dataBytes           the heap the tokenizer and the loaded data hold
 * @param mappedBytes         the base's weight files, mapped
 * @param outsideHeapBytes    the Java runtime's own memory outside the heap
 * @param youngBytes          the young generation's size
 * @param headroomBytes       the old generation's room beyond its live objects
 * @param artifactBytes       what the run saves
 */
public record Prediction(long trainableParameters, double flopsPerToken, double lossShare, double seconds, double warmupSeconds,
                         long weightsBytes,
                         long gradientsBytes, long optimizerBytes, long activationsBytes, long frozenInPlaceBytes,
                         long dataBytes, long mappedBytes, long outsideHeapBytes, long youngBytes, long headroomBytes,
                         long artifactBytes) {
    /** The old generation's headroom is half its live objects, at least this many MiB. */
    static final long MIN_HEADROOM_MIB = 16;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The prediction from {@code e} of {@code method} with the process's other parts. */
    static Prediction of(CostEstimate e, TrainingMethod method, DataFootprint data, long mappedBytes,
                         RuntimeBaseline runtime) {
        CostEstimate.Memory m = e.memory();
        long live = m.total() - m.frozenInPlace() + data.heldBytes();
        double warmup = runtime.warmupSeconds(method);
        return new Prediction(e.trainableParameters(), e.flops().perToken(), data.lossShare(),
                e.time().seconds() + warmup, warmup, m.weights(),
                m.gradients(), m.optimizer(), m.activations(), m.frozenInPlace(), data.heldBytes(), mappedBytes,
                runtime.outsideHeapBytes(), runtime.youngGenBytes(), Math.max(MIN_HEADROOM_MIB << 20, live / 2),
                e.artifactBytes());
    }

    /** The training memory the cost model counts: weights, gradients, optimizer state and activations. */
    public long trainingBytes() {
        return weightsBytes + gradientsBytes + optimizerBytes + activationsBytes;
    }

    /** The old generation's live objects: the training memory on the heap, the tokenizer and the data. */
    public long liveBytes() {
        return trainingBytes() - frozenInPlaceBytes + dataBytes;
    }

    /** The old generation: its live objects and its headroom. */
    public long oldBytes() {
        return liveBytes() + headroomBytes;
    }

    /** The heap the child is capped at: the young generation and the old. */
    public long heapBytes() {
        return youngBytes + oldBytes();
    }

    /** The Java runtime's own: its memory outside the heap and its young generation. */
    public long runtimeBytes() {
        return outsideHeapBytes + youngBytes;
    }

    /** The process's peak resident memory. */
    public long peakBytes() {
        return runtimeBytes() + oldBytes() + mappedBytes;
    }

    /** As JSON. */
    ObjectNode json() {
        ObjectNode n = JSON.createObjectNode();
        n.put("trainable_parameters", trainableParameters).put("flops_per_token", flopsPerToken)
                .put("loss_share", lossShare).put("seconds", seconds).put("warmup_seconds", warmupSeconds);
        n.putObject("memory_bytes").put("weights", weightsBytes).put("gradients", gradientsBytes)
                .put("optimizer", optimizerBytes).put("activations", activationsBytes).put("training", trainingBytes())
                .put("frozen_in_place", frozenInPlaceBytes).put("data", dataBytes).put("live", liveBytes())
                .put("headroom", headroomBytes).put("old_generation", oldBytes()).put("heap_cap", heapBytes())
                .put("mapped", mappedBytes).put("outside_heap", outsideHeapBytes).put("young_generation", youngBytes)
                .put("peak", peakBytes());
        n.put("artifact_bytes", artifactBytes);
        return n;
    }

    /** Read back from {@link #json()}. */
    static Prediction of(JsonNode n) {
        JsonNode m = n.path("memory_bytes");
        return new Prediction(n.path("trainable_parameters").asLong(), n.path("flops_per_token").asDouble(),
                n.path("loss_share").asDouble(1), n.path("seconds").asDouble(), n.path("warmup_seconds").asDouble(), m.path("weights").asLong(), m.path("gradients").asLong(),
                m.path("optimizer").asLong(), m.path("activations").asLong(), m.path("frozen_in_place").asLong(),
                m.path("data").asLong(), m.path("mapped").asLong(), m.path("outside_heap").asLong(),
                m.path("young_generation").asLong(), m.path("headroom").asLong(), n.path("artifact_bytes").asLong());
    }
}
