package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.cost.CostEstimate;

/**
 * What the cost model predicted for one measured run, on this machine's profile and for the tokens the run trained
 * on. The peak memory of the process is the model's training memory plus the Java runtime's own: the process's
 * resident memory when it started and its young generation, which a collector fills with short-lived temporaries
 * before it collects them; both are known before training starts.
 *
 * @param trainableParameters the values trained
 * @param flopsPerToken       training FLOPs per token
 * @param seconds             training time for the run's tokens: its FLOPs at the profile's product rate times its
 *                            utilisation, plus the optimizer's memory traffic
 * @param weightsBytes        training memory: weights
 * @param gradientsBytes      gradients
 * @param optimizerBytes      optimizer state
 * @param activationsBytes    activations
 * @param runtimeBytes        the Java runtime's own memory: the process's start and its young generation
 * @param artifactBytes       what the run saves
 */
public record Prediction(long trainableParameters, double flopsPerToken, double seconds, long weightsBytes,
                         long gradientsBytes, long optimizerBytes, long activationsBytes, long runtimeBytes,
                         long artifactBytes) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The prediction from {@code e}, with {@code runtimeBytes} of the runtime's own memory. */
    static Prediction of(CostEstimate e, long runtimeBytes) {
        CostEstimate.Memory m = e.memory();
        return new Prediction(e.trainableParameters(), e.flops().perToken(), e.time().seconds(), m.weights(),
                m.gradients(), m.optimizer(), m.activations(), runtimeBytes, e.artifactBytes());
    }

    /** The training memory the cost model counts: weights, gradients, optimizer state and activations. */
    public long trainingBytes() {
        return weightsBytes + gradientsBytes + optimizerBytes + activationsBytes;
    }

    /** The process's peak resident memory: the training memory and the runtime's. */
    public long peakBytes() {
        return trainingBytes() + runtimeBytes;
    }

    /** As JSON. */
    ObjectNode json() {
        ObjectNode n = JSON.createObjectNode();
        n.put("trainable_parameters", trainableParameters).put("flops_per_token", flopsPerToken)
                .put("seconds", seconds);
        n.putObject("memory_bytes").put("weights", weightsBytes).put("gradients", gradientsBytes)
                .put("optimizer", optimizerBytes).put("activations", activationsBytes).put("training", trainingBytes())
                .put("runtime", runtimeBytes).put("peak", peakBytes());
        n.put("artifact_bytes", artifactBytes);
        return n;
    }

    /** Read back from {@link #json()}. */
    static Prediction of(JsonNode n) {
        JsonNode m = n.path("memory_bytes");
        return new Prediction(n.path("trainable_parameters").asLong(), n.path("flops_per_token").asDouble(),
                n.path("seconds").asDouble(), m.path("weights").asLong(), m.path("gradients").asLong(),
                m.path("optimizer").asLong(), m.path("activations").asLong(), m.path("runtime").asLong(),
                n.path("artifact_bytes").asLong());
    }
}
