package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * One method of a comparison as it ran, measured, and as the cost model predicted it ({@code result.json}).
 *
 * @param method              the method's name
 * @param description         what it trains, in a few words
 * @param key                 identifies the settings it ran with; a resumed comparison reuses it only for the same
 * @param lr                  its learning rate
 * @param totalParameters     the trained model's parameters (the base's and an adapter's)
 * @param measured            what its process measured
 * @param artifactBytes       the bytes of the files it saved (the adapter, or the whole model)
 * @param losses              the training loss of every update
 * @param predicted           the cost model's prediction of the same run on this machine
 * @param loadAverage         the machine's one-minute load average when it finished (other work slows it)
 * @param warmupSeconds       what its first updates took beyond its steady pace ({@link RuntimeBaseline#warmup}), or
 *                            NaN when it ran too few to tell
 */
public record MethodRun(String method, String description, String key, double lr, long totalParameters,
                        Measurement measured, long artifactBytes, List<LossPoint> losses, Prediction predicted,
                        double loadAverage, double warmupSeconds) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The goal: time and peak memory predicted within this many percent. */
    public static final double GOAL_PERCENT = 15;

    /**
     * The loss after one update.
     *
     * @param step the update, from 1
     * @param loss its training loss
     */
    public record LossPoint(long step, double loss) {
    }

    /** Trainable parameters, counted by the training run. */
    public long trainableParameters() {
        return measured.trainableParameters();
    }

    /** Updates. */
    public long steps() {
        return measured.steps();
    }

    /** The wall time of the updates this process ran (from {@link #resumedFrom()} on). */
    public double trainSeconds() {
        return measured.trainSeconds();
    }

    /**
     * The wall time of the whole run's updates: {@link #trainSeconds()} per update over every update (the same unless
     * the run was resumed).
     */
    public double runSeconds() {
        long ran = measured.steps() - measured.resumedFrom();
        return ran > 0 ? measured.trainSeconds() * measured.steps() / ran : Double.NaN;
    }

    /** The step the process that finished it resumed from (0 when it ran whole). */
    public long resumedFrom() {
        return measured.resumedFrom();
    }

    /** The tokens trained on in {@link #trainSeconds()}. */
    public long tokens() {
        return measured.tokens();
    }

    /** Training tokens per second. */
    public double tokensPerSecond() {
        return measured.trainSeconds() > 0 ? measured.tokens() / measured.trainSeconds() : 0;
    }

    /** The process's peak resident memory. */
    public long peakRssBytes() {
        return measured.peakRssBytes();
    }

    /** The loss on the held-out data after training. */
    public double evalLoss() {
        return measured.evalLoss();
    }

    /** Classification accuracy on the held-out data, or NaN for other data. */
    public double evalAccuracy() {
        return measured.evalAccuracy();
    }

    /** The last update's training loss. */
    public double trainLoss() {
        return measured.trainLoss();
    }

    /** The time prediction's error: {@code (predicted - measured) / measured}, in percent. */
    public double timeErrorPercent() {
        return errorPercent(predicted.seconds(), measured.trainSeconds());
    }

    /** The peak memory prediction's error, in percent. */
    public double memoryErrorPercent() {
        return errorPercent(predicted.peakBytes(), measured.peakRssBytes());
    }

    /** The artifact prediction's error, in percent. */
    public double artifactErrorPercent() {
        return errorPercent(predicted.artifactBytes(), artifactBytes);
    }

    /**
     * The share of this machine's measured product rate the run reached: its FLOPs (as the cost model counts them)
     * per second over {@code peakFlops}.
     */
    public double achievedUtilization(double peakFlops) {
        return predicted.flopsPerToken() * tokensPerSecond() / peakFlops;
    }

    /** {@code (predicted - measured) / measured} in percent (NaN when nothing was measured). */
    static double errorPercent(double predicted, double measured) {
        return measured > 0 ? 100 * (predicted - measured) / measured : Double.NaN;
    }

    /** As {@code result.json} holds it. */
    ObjectNode json() {
        ObjectNode n = JSON.createObjectNode();
        n.put("method", method).put("description", description).put("key", key).put("lr", lr)
                .put("total_parameters", totalParameters);
        n.set("measured", measured.json());
        n.put("artifact_bytes", artifactBytes);
        n.set("predicted", predicted.json());
        ObjectNode errors = n.putObject("error_percent");
        Reports.putNumber(errors, "time", timeErrorPercent());
        Reports.putNumber(errors, "peak_memory", memoryErrorPercent());
        Reports.putNumber(errors, "artifact", artifactErrorPercent());
        n.put("load_average", loadAverage);
        Reports.putNumber(n, "warmup_seconds", warmupSeconds);
        ArrayNode curve = n.putArray("losses");
        losses.forEach(p -> curve.addArray().add(p.step()).add(p.loss()));
        return n;
    }

    /** Read back from {@link #json()}. */
    static MethodRun of(JsonNode n) {
        List<LossPoint> losses = new ArrayList<>();
        n.path("losses").forEach(p -> losses.add(new LossPoint(p.get(0).asLong(), p.get(1).asDouble())));
        return new MethodRun(n.path("method").asText(), n.path("description").asText(), n.path("key").asText(),
                n.path("lr").asDouble(), n.path("total_parameters").asLong(), Measurement.of(n.path("measured")),
                n.path("artifact_bytes").asLong(), List.copyOf(losses), Prediction.of(n.path("predicted")),
                n.path("load_average").asDouble(), Reports.number(n, "warmup_seconds"));
    }

    /** The steady pace of its updates: their time, its warm-up apart, per update (NaN without a warm-up). */
    public double steadySecondsPerUpdate() {
        long ran = measured.steps() - measured.resumedFrom();
        return ran > 0 ? (measured.trainSeconds() - warmupSeconds) / ran : Double.NaN;
    }
}
