package dev.tailor.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Why a prediction missed the goal ({@value MethodRun#GOAL_PERCENT}%), from the run's own numbers: for time, the
 * share of the machine's measured product rate the run reached against the share the profile assumes, the base's
 * size and the machine's load; for memory, what the process held beyond the runtime's own memory against the cost
 * model's training memory.
 */
final class PredictionNotes {
    /** Below this hidden size products are too small to run at the rate measured on the calibration's product. */
    private static final int SMALL_HIDDEN = 512;

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
        double peak = result.machine().fp32Tflops() * 1e12;
        double reached = run.achievedUtilization(peak);
        double assumed = result.machine().utilization();
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                "time %s: the run computed at %.0f%% of this machine's measured product rate (%.1f GFLOP/s), the "
                        + "profile assumes %.0f%%", Reports.percent(error), 100 * reached, peak / 1e9, 100 * assumed));
        if (reached < assumed) {
            if (result.settings().hiddenSize() < SMALL_HIDDEN) {
                s.append(String.format(Locale.ROOT, "; with a hidden size of %d the products are far smaller than the "
                        + "calibration's [256x1024]x[1024x1024], and the work the FLOP count leaves out (norms, "
                        + "softmax, the loss over the vocabulary, the optimizer, per-step overhead) weighs more",
                        result.settings().hiddenSize()));
            } else {
                s.append("; the work the FLOP count leaves out (norms, softmax, the loss, the optimizer) took longer "
                        + "than the assumed share");
            }
        } else {
            s.append("; this run's products ran closer to the calibration's rate than the profile assumes");
        }
        if (run.loadAverage() > result.environment().processors()) {
            s.append(String.format(Locale.ROOT, "; the machine was shared (load average %.1f on %d processors), which "
                    + "slows a run and its measurement alike", run.loadAverage(), result.environment().processors()));
        }
        return s.toString();
    }

    private static String memory(MethodRun run, double error) {
        Prediction p = run.predicted();
        long beyond = run.peakRssBytes() - p.runtimeBytes();
        long training = p.trainingBytes();
        String s = String.format(Locale.ROOT, "peak memory %s: beyond the runtime's %s (its start and young "
                        + "generation) the process held %s where the cost model counts %s of training memory",
                Reports.percent(error), Reports.bytes(p.runtimeBytes()), Reports.bytes(beyond), Reports.bytes(training));
        if (beyond > training) {
            return s + "; the rest is what the model leaves out: the tokenized data, the compiled code and class "
                    + "metadata of training, objects the collector has not reclaimed yet in the old generation, the "
                    + "evaluation's scoring";
        }
        return s + "; the collector's young generation was not filled to its maximum before it collected";
    }
}
