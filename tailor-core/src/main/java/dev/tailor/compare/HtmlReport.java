package dev.tailor.compare;

import java.util.List;
import java.util.Locale;

/**
 * {@code report.html}: one self-contained page — inline CSS and SVG, no script, no external asset — with the table,
 * the loss curves, trainable parameters and storage, quality against training time with the Pareto front, measured
 * against predicted time and memory, and the projection.
 */
final class HtmlReport {
    private static final String STYLE = """
            body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto; max-width: 1100px; \
            padding: 0 16px; }
            h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
            table { border-collapse: collapse; margin: 8px 0; }
            th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; white-space: nowrap; }
            th:first-child, td:first-child { text-align: left; }
            td.missed { color: #b00020; }
            figure { margin: 12px 0; } figcaption { color: #555; font-size: 13px; }
            svg text { font: 12px system-ui, sans-serif; fill: #333; }
            .note { color: #444; } code { background: #f3f3f3; padding: 0 3px; }
            """;

    private HtmlReport() {
    }

    static String of(ComparisonResult result) {
        List<MethodRun> runs = result.runs();
        List<String> names = runs.stream().map(MethodRun::method).toList();
        StringBuilder h = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                + "<title>Tailor method comparison</title><style>" + STYLE + "</style></head><body>\n");
        h.append("<h1>Method comparison</h1>\n<p>").append(Svg.escape(MarkdownReport.settingsLine(result).replace("`", "")))
                .append("</p>\n");
        h.append(table(result));
        h.append("<h2>Training loss</h2>\n").append(figure(Charts.lossCurves(result),
                "Training loss of every update, per method."));
        h.append("<h2>Trainable parameters and storage</h2>\n");
        h.append(figure(Charts.bars("trainable-parameters", "trainable parameters (log scale)", names,
                runs.stream().mapToDouble(MethodRun::trainableParameters).toArray(), Reports::count),
                "What each method trains."));
        h.append(figure(Charts.bars("artifact-bytes", "artifact bytes (log scale)", names,
                runs.stream().mapToDouble(MethodRun::artifactBytes).toArray(), Reports::bytes),
                "What each method saves: an adapter's two files, or the whole model."));
        h.append("<h2>").append(result.scoredByAccuracy() ? "Accuracy" : "Eval loss")
                .append(" against cost</h2>\n").append(figure(Charts.qualityVsTime(result),
                        "Pareto front: " + String.join(", ", result.paretoFront())
                                + " (no other method is both faster and better)."));
        h.append("<h2>Measured against predicted</h2>\n");
        h.append(figure(Charts.measuredVsPredicted("time-prediction", "training time (s)", runs,
                runs.stream().mapToDouble(MethodRun::trainSeconds).toArray(),
                runs.stream().mapToDouble(r -> r.predicted().seconds()).toArray(), Reports::seconds),
                "The cost model's time on this machine's profile against the measured time of the same tokens."));
        h.append(figure(Charts.measuredVsPredicted("memory-prediction", "peak memory", runs,
                runs.stream().mapToDouble(MethodRun::peakRssBytes).toArray(),
                runs.stream().mapToDouble(r -> r.predicted().peakBytes()).toArray(), Reports::bytes),
                "The predicted peak (the runtime's own memory, the heap's generations, the mapped weights) against the "
                        + "process's peak RSS."));
        h.append(notes(result));
        if (result.projection() != null) {
            h.append(projection(result.projection()));
        }
        h.append("<p class=\"note\">").append(Svg.escape(result.environment().processors() + " processors, Java "
                + result.environment().java() + "; each method's process ran with "
                + String.join(" ", result.environment().jvmOptions()) + "; written " + result.environment().created()))
                .append("</p>\n</body></html>\n");
        return h.toString();
    }

    private static String table(ComparisonResult result) {
        boolean accuracy = result.scoredByAccuracy();
        List<String> front = result.paretoFront();
        StringBuilder t = new StringBuilder("<table id=\"results\"><thead><tr><th>method</th><th>trainable</th>"
                + "<th>time</th><th>tokens/s</th><th>peak RSS</th><th>artifact</th><th>eval loss</th>"
                + (accuracy ? "<th>accuracy</th>" : "") + "<th>predicted time</th><th>error</th>"
                + "<th>predicted peak</th><th>error</th></tr></thead><tbody>\n");
        for (MethodRun r : result.runs()) {
            t.append("<tr data-method=\"").append(Svg.escape(r.method())).append("\"><td>")
                    .append(Svg.escape(r.method())).append(front.contains(r.method()) ? " ★" : "").append("</td>")
                    .append(td(Reports.count(r.trainableParameters()))).append(td(Reports.seconds(r.runSeconds())))
                    .append(td(String.format(Locale.ROOT, "%.0f", r.tokensPerSecond())))
                    .append(td(Reports.bytes(r.peakRssBytes()))).append(td(Reports.bytes(r.artifactBytes())))
                    .append(td(Reports.fixed(r.evalLoss(), 4)));
            if (accuracy) {
                t.append(td(Reports.fixed(r.evalAccuracy(), 4)));
            }
            t.append(td(Reports.seconds(r.predicted().seconds() * r.runSeconds() / r.trainSeconds())))
                    .append(error(r.timeErrorPercent())).append(td(Reports.bytes(r.predicted().peakBytes())))
                    .append(error(r.memoryErrorPercent())).append("</tr>\n");
        }
        return t.append("</tbody></table>\n<p class=\"note\">★ on the Pareto front. ")
                .append("Error = (predicted - measured) / measured; red where it misses the ")
                .append(String.format(Locale.ROOT, "%.0f", MethodRun.GOAL_PERCENT)).append("% goal.</p>\n").toString();
    }

    private static String notes(ComparisonResult result) {
        StringBuilder n = new StringBuilder("<h2>Where the goal was missed</h2>\n");
        List<String> items = result.runs().stream().flatMap(r -> PredictionNotes.of(result, r).stream()
                .map(note -> "<li><b>" + Svg.escape(r.method()) + "</b>: " + Svg.escape(note) + "</li>")).toList();
        if (items.isEmpty()) {
            return n.append("<p>Nowhere: every time and peak memory was predicted within the goal.</p>\n").toString();
        }
        return n.append("<ul>\n").append(String.join("\n", items)).append("\n</ul>\n").toString();
    }

    private static String projection(ComparisonResult.ProjectionResult p) {
        List<ComparisonResult.Projected> methods = p.methods();
        List<String> names = methods.stream().map(ComparisonResult.Projected::method).toList();
        StringBuilder h = new StringBuilder("<h2>Projected: ").append(Svg.escape(p.model())).append(" on ")
                .append(Svg.escape(p.hardware().name())).append("</h2>\n<p>")
                .append(Svg.escape(Reports.count(p.modelParameters()) + " parameters, " + Reports.count(p.tokens())
                        + " training tokens, BF16 activations, F32 trainable weights, AdamW; "
                        + p.hardware().description() + "."))
                .append("</p>\n<table id=\"projection\"><thead><tr><th>method</th><th>trainable</th><th>memory</th>"
                        + "<th>fits</th><th>time</th><th>cost</th><th>artifact</th></tr></thead><tbody>\n");
        for (ComparisonResult.Projected m : methods) {
            h.append("<tr><td>").append(Svg.escape(m.method())).append("</td>")
                    .append(td(Reports.count(m.trainableParameters()))).append(td(Reports.bytes(m.memoryBytes())))
                    .append(td(m.fits() ? "yes" : "no")).append(td(Reports.seconds(m.seconds())))
                    .append(td(String.format(Locale.ROOT, "$%.2f", m.money()))).append(td(Reports.bytes(m.artifactBytes())))
                    .append("</tr>\n");
        }
        h.append("</tbody></table>\n");
        h.append(figure(Charts.bars("projected-time", "training time on " + p.hardware().name() + " (log scale)", names,
                methods.stream().mapToDouble(ComparisonResult.Projected::seconds).toArray(), Reports::seconds),
                "The cost model's time for each method on the projected machine and model."));
        h.append(figure(Charts.bars("projected-memory", "training memory on " + p.hardware().name() + " (log scale)",
                names, methods.stream().mapToDouble(ComparisonResult.Projected::memoryBytes).toArray(), Reports::bytes),
                "Training memory; the machine has " + Reports.bytes(p.hardware().memoryBytes()) + "."));
        return h.toString();
    }

    private static String figure(String svg, String caption) {
        return "<figure>" + svg + "<figcaption>" + Svg.escape(caption) + "</figcaption></figure>\n";
    }

    private static String td(String text) {
        return "<td>" + Svg.escape(text) + "</td>";
    }

    private static String error(double percent) {
        boolean missed = !(Math.abs(percent) <= MethodRun.GOAL_PERCENT);
        return "<td" + (missed ? " class=\"missed\"" : "") + ">" + Svg.escape(Reports.percent(percent)) + "</td>";
    }
}
