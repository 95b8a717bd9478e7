package dev.tailor.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Why a prediction missed the goal ({@value MethodRun#GOAL_PERCENT}%), from the run's own numbers set beside the
 * prediction's parts: for time, the seconds per update predicted and measured (and, on a profile priced at a
 * utilisation, the share of the peak the run reached), and the machine's load; for memory, each part of the process
 * as it measured it (its heap generations at their peaks, the base's mapped pages, the rest outside the heap) against
 * the part predicted, the largest difference first.
 */
final class PredictionNotes {
    private PredictionNotes() {
    }

    /** The notes on {@code run}: none when both predictions met the goal. */
    static List<String> of(ComparisonResult result, MethodRun run) {
        List<String> notes = new ArrayList<>();
        double time = run.timeErrorPercent();
        if (!(Math.abs(time) <= MethodRun.GOAL_PERCENT)) {
            notes.add(time(result, run, time));
        }
        double memory = run.memoryErrorPercent();
        if (!(Math.abs(memory) <= MethodRun.GOAL_PERCENT)) {
            notes.add(memory(run, memory));
        }
        return notes;
    }

    private static String time(ComparisonResult result, MethodRun run, double error) {
        long ran = Math.max(1, run.steps() - run.resumedFrom());
        Prediction p = run.predicted();
        StringBuilder s = new StringBuilder("time " + Reports.percent(error) + ": ");
        if (result.machine().kernels() != null && Double.isFinite(run.warmupSeconds())) {
            s.append(String.format(Locale.ROOT, "the first updates took %.2f s beyond the steady pace (the warm-up "
                            + "predicted %.2f s), the steady pace was %.1f ms an update (predicted %.1f ms)",
                    run.warmupSeconds(), p.warmupSeconds(), 1e3 * run.steadySecondsPerUpdate(),
                    1e3 * (p.seconds() - p.warmupSeconds()) / ran));
            double warm = run.warmupSeconds() - p.warmupSeconds();
            double steady = (run.steadySecondsPerUpdate() - (p.seconds() - p.warmupSeconds()) / ran) * ran;
            if (Math.abs(warm) >= Math.abs(steady)) {
                s.append(warm > 0 ? "; most of the miss is the warm-up, longer than in the tiny run that measured it "
                        + "(the compiler's work varies from process to process, and with each method's own code)"
                        : "; most of the miss is the warm-up, shorter than in the tiny run that measured it");
            } else {
                s.append(steady > 0 ? "; most of the miss is the steady pace: beyond the kernels this machine "
                        + "measured, a run pays the collector for what it allocates" : "; most of the miss is the "
                        + "steady pace: the run's kernels ran faster than when they were measured");
            }
        } else if (result.machine().kernels() != null) {
            s.append(String.format(Locale.ROOT, "%.1f ms an update predicted, %.1f ms measured",
                    1e3 * p.seconds() / ran, 1e3 * run.trainSeconds() / ran));
        } else {
            double peak = result.machine().fp32Tflops() * 1e12;
            s.append(String.format(Locale.ROOT, "%.1f ms an update predicted, %.1f ms measured; the run computed at "
                    + "%.0f%% of this machine's measured product rate, the profile assumes %.0f%%", 1e3 * p.seconds() / ran,
                    1e3 * run.trainSeconds() / ran, 100 * run.achievedUtilization(peak),
                    100 * result.machine().utilization()));
        }
        if (run.loadAverage() > result.environment().processors() + 1) {
            s.append(String.format(Locale.ROOT, "; the machine was shared (load average %.1f on %d processors, the "
                    + "run's own threads included), which slows a run and its measurement alike", run.loadAverage(),
                    result.environment().processors()));
        }
        return s.toString();
    }

    private static String memory(MethodRun run, double error) {
        Prediction p = run.predicted();
        Measurement m = run.measured();
        Measurement.MemoryParts parts = m.memory();
        List<Part> all = List.of(
                new Part("the old generation", parts.oldPeakBytes(), p.oldBytes(), "training memory on the heap "
                        + Reports.bytes(p.liveBytes() - p.dataBytes()) + ", tokenizer and data "
                        + Reports.bytes(p.dataBytes()) + ", headroom up to the heap's cap "
                        + Reports.bytes(p.headroomBytes())),
                new Part("the young generation", parts.youngPeakBytes(), p.youngBytes(), null),
                new Part("the mapped weight files", parts.mappedBytes(), p.mappedBytes(), null),
                new Part("the runtime outside the heap", parts.outsideHeap(m.peakRssBytes()), p.outsideHeapBytes(),
                        null));
        List<Part> sorted = new ArrayList<>(all);
        sorted.sort((a, b) -> Long.compare(Math.abs(b.measured - b.predicted), Math.abs(a.measured - a.predicted)));
        StringBuilder s = new StringBuilder("peak memory " + Reports.percent(error) + ":");
        String sep = " ";
        for (Part part : sorted) {
            s.append(sep).append(part.name).append(" held ").append(Reports.bytes(part.measured)).append(" at its peak")
                    .append(", predicted ").append(Reports.bytes(part.predicted))
                    .append(part.detail == null ? "" : " (" + part.detail + ")");
            sep = "; ";
        }
        return s.append(" (each part at its own peak; the process's peak is where they met)").toString();
    }

    /** One part of the process's memory, measured and predicted. */
    private record Part(String name, long measured, long predicted, String detail) {
    }
}
