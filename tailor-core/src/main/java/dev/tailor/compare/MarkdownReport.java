package dev.tailor.compare;

import java.util.List;
import java.util.Locale;

/** {@code report.md}: the settings, the table of measured and predicted numbers, the notes and the projection. */
final class MarkdownReport {
    private MarkdownReport() {
    }

    static String of(ComparisonResult result) {
        StringBuilder md = new StringBuilder("# Method comparison\n\n");
        md.append(settingsLine(result)).append("\n\n");
        md.append(table(result)).append('\n');
        md.append(explanation(result)).append("\n\n");
        List<String> notes = result.runs().stream()
                .flatMap(r -> PredictionNotes.of(result, r).stream().map(n -> "- **" + r.method() + "**: " + n))
                .toList();
        md.append("## Where the ").append(fmt("%.0f", MethodRun.GOAL_PERCENT)).append("% goal was missed\n\n");
        md.append(notes.isEmpty() ? "Nowhere: every time and peak memory was predicted within the goal.\n"
                : String.join("\n", notes) + "\n");
        md.append("\nPareto front (").append(result.scoredByAccuracy() ? "accuracy" : "eval loss")
                .append(" against training time): ").append(String.join(", ", result.paretoFront())).append(".\n");
        if (result.projection() != null) {
            md.append('\n').append(projection(result.projection()));
        }
        return md.toString();
    }

    static String settingsLine(ComparisonResult result) {
        ComparisonResult.Settings s = result.settings();
        String timeModel = result.machine().kernels() != null ? "time from its measured kernels, product by product"
                : String.format(Locale.ROOT, "%.0f%% utilisation assumed", 100 * result.machine().utilization());
        return String.format(Locale.ROOT, "Base `%s` (%s parameters, %d layers, hidden %d); data `%s`%s; %d updates "
                        + "of %d sequences of %d tokens per method, seed %d; predicted on %s (%s, %.1f GFLOP/s measured, "
                        + "%s).", s.model(), Reports.count(s.baseParameters()), s.layers(),
                s.hiddenSize(), s.trainData(), s.evalData() == null ? " (a tenth held out)"
                        : ", evaluated on `" + s.evalData() + "`", s.steps(), s.batchSize(), s.seqLen(), s.seed(),
                result.machine().name(), result.machine().description(), result.machine().fp32Tflops() * 1e3,
                timeModel);
    }

    /** The table of every method: measured, then predicted with the error. */
    static String table(ComparisonResult result) {
        boolean accuracy = result.scoredByAccuracy();
        StringBuilder t = new StringBuilder("| method | trainable | time | tokens/s | peak RSS | artifact | eval loss |"
                + (accuracy ? " accuracy |" : "") + " predicted time (error) | predicted peak (error) |\n");
        t.append("|---|---:|---:|---:|---:|---:|---:|").append(accuracy ? "---:|" : "").append("---:|---:|\n");
        for (MethodRun r : result.runs()) {
            t.append("| ").append(r.method()).append(" | ").append(Reports.count(r.trainableParameters()))
                    .append(" | ").append(Reports.seconds(r.runSeconds())).append(" | ")
                    .append(fmt("%.0f", r.tokensPerSecond())).append(" | ").append(Reports.bytes(r.peakRssBytes()))
                    .append(" | ").append(Reports.bytes(r.artifactBytes())).append(" | ")
                    .append(Reports.fixed(r.evalLoss(), 4)).append(" | ");
            if (accuracy) {
                t.append(Reports.fixed(r.evalAccuracy(), 4)).append(" | ");
            }
            t.append(Reports.seconds(r.predicted().seconds() * r.runSeconds() / r.trainSeconds())).append(" (")
                    .append(Reports.percent(r.timeErrorPercent())).append(") | ")
                    .append(Reports.bytes(r.predicted().peakBytes())).append(" (")
                    .append(Reports.percent(r.memoryErrorPercent())).append(") |\n");
        }
        return t.toString();
    }

    private static String explanation(ComparisonResult result) {
        return "Each method trained in a process of its own. *time* is the wall time of its updates (loading, "
                + "evaluation and checkpoints apart); *peak RSS* the process's peak resident memory, loading and "
                + "evaluation included; *artifact* the bytes of the files it saved. The predictions are the cost "
                + "model's for the same tokens on `" + result.machine().name() + "`, made before the method ran; the "
                + "predicted peak is the Java runtime's own memory outside the heap (measured once with a tiny "
                + "training run), its young generation, the old generation's live objects (the cost model's training "
                + "memory less the frozen weights read in place from the mapped file, the tokenizer and the loaded "
                + "data) and the base's mapped weight files. Error = (predicted - measured) / measured.";
    }

    /** The projection's table. */
    static String projection(ComparisonResult.ProjectionResult p) {
        StringBuilder t = new StringBuilder("## Projected: ").append(p.model()).append(" (")
                .append(Reports.count(p.modelParameters())).append(" parameters) on ").append(p.hardware().name())
                .append("\n\n").append(Reports.count(p.tokens())).append(" training tokens, BF16 activations, F32 "
                        + "trainable weights, AdamW; ").append(p.hardware().description()).append(".\n\n");
        t.append("| method | trainable | memory | fits | time | cost | artifact |\n|---|---:|---:|---|---:|---:|---:|\n");
        for (ComparisonResult.Projected m : p.methods()) {
            t.append("| ").append(m.method()).append(" | ").append(Reports.count(m.trainableParameters())).append(" | ")
                    .append(Reports.bytes(m.memoryBytes())).append(" | ").append(m.fits() ? "yes" : "no").append(" | ")
                    .append(Reports.seconds(m.seconds())).append(" | ").append(fmt("$%.2f", m.money())).append(" | ")
                    .append(Reports.bytes(m.artifactBytes())).append(" |\n");
        }
        return t.toString();
    }

    private static String fmt(String format, double v) {
        return String.format(Locale.ROOT, format, v);
    }
}
