package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What the process that trained one method measured of itself ({@code measurement.json}).
 *
 * @param steps               updates in the run, resumed ones included
 * @param resumedFrom         the step this process resumed from (0 for a fresh run)
 * @param trainableParameters the values trained
 * @param tokens              the tokens this process trained on (from {@code resumedFrom} on)
 * @param trainSeconds        the wall time of this process's updates (evaluation and checkpoints apart)
 * @param trainLoss           the last update's loss
 * @param evalLoss            the loss on the held-out data after the last update
 * @param evalAccuracy        classification accuracy on the held-out data, or NaN for other formats
 * @param peakRssBytes        the process's peak resident memory ({@code VmHWM}), loading and evaluation included
 * @param startRssBytes       its resident memory when it started, before it read anything
 * @param youngGenBytes       the most the JVM's young generation may take (0 when the collector sizes it freely)
 * @param processSeconds      the process's wall time from start to exit: loading, training, evaluation, saving
 * @param memory              where its memory went, as far as the process can tell
 */
public record Measurement(long steps, long resumedFrom, long trainableParameters, long tokens, double trainSeconds,
                   double trainLoss, double evalLoss, double evalAccuracy, long peakRssBytes, long startRssBytes,
                   long youngGenBytes, double processSeconds, MemoryParts memory) {

    /**
     * The parts of a process's memory it can see itself, each at its own peak.
     *
     * @param youngPeakBytes the peaks of the heap's young generation's spaces (eden and survivors) summed, at most its
 *                       size
     * @param oldPeakBytes   the most of its old generation in use at once (live objects and those not collected yet)
     * @param mappedBytes    the resident pages of the base's weight files it mapped, at the end
     */
    public record MemoryParts(long youngPeakBytes, long oldPeakBytes, long mappedBytes) {
        /** What is left of {@code peakRss} without these: the runtime's own memory outside the heap. */
        public long outsideHeap(long peakRss) {
            return peakRss - youngPeakBytes - oldPeakBytes - mappedBytes;
        }
    }
    private static final ObjectMapper JSON = new ObjectMapper();

    /** As JSON (NaN as null). */
    ObjectNode json() {
        ObjectNode n = JSON.createObjectNode();
        n.put("steps", steps).put("resumed_from", resumedFrom).put("trainable_parameters", trainableParameters)
                .put("tokens", tokens).put("train_seconds", trainSeconds);
        Reports.putNumber(n, "train_loss", trainLoss);
        Reports.putNumber(n, "eval_loss", evalLoss);
        Reports.putNumber(n, "eval_accuracy", evalAccuracy);
        n.put("peak_rss_bytes", peakRssBytes).put("start_rss_bytes", startRssBytes)
                .put("young_gen_bytes", youngGenBytes).put("process_seconds", processSeconds);
        n.putObject("memory").put("young_peak_bytes", memory.youngPeakBytes())
                .put("old_peak_bytes", memory.oldPeakBytes()).put("mapped_bytes", memory.mappedBytes());
        return n;
    }

    /** Read back from {@link #json()}. */
    static Measurement of(JsonNode n) {
        return new Measurement(n.path("steps").asLong(), n.path("resumed_from").asLong(),
                n.path("trainable_parameters").asLong(), n.path("tokens").asLong(), n.path("train_seconds").asDouble(),
                Reports.number(n, "train_loss"), Reports.number(n, "eval_loss"), Reports.number(n, "eval_accuracy"),
                n.path("peak_rss_bytes").asLong(), n.path("start_rss_bytes").asLong(),
                n.path("young_gen_bytes").asLong(), n.path("process_seconds").asDouble(),
                new MemoryParts(n.path("memory").path("young_peak_bytes").asLong(),
                        n.path("memory").path("old_peak_bytes").asLong(), n.path("memory").path("mapped_bytes").asLong()));
    }
}
