package dev.tailor.demo;

import dev.tailor.compare.MethodRun;
import dev.tailor.compare.ReportWriter;

import java.util.Map;

/** The demo's report as one self-contained HTML page (no scripts, no external files). */
final class DemoReportHtml {
    private DemoReportHtml() {
    }

    static String render(DemoResult result, DemoReport.Comparison comparison, ServingRecord serving) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tailor demo</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;")
                .append("text-align:left;vertical-align:top}th{background:#f3f3f3}.num{text-align:right}")
                .append(".right{color:#176117}.wrong{color:#9b1c1c}code{font-size:.9em}</style></head><body>\n");
        long reused = result.steps().stream().filter(DemoResult.Step::reused).count();
        h.append("<h1>Tailor demo: one base, client-specific adapters</h1>\n<p>")
                .append(esc(result.model())).append(". Size <code>").append(esc(result.settings().name()))
                .append("</code>; this run took ").append(String.format("%.1f s (%.1f processor seconds)",
                        result.seconds(), result.cpuSeconds()))
                .append(reused == 0 ? "" : ", reusing " + reused + " finished steps (their own times below)")
                .append(".</p>\n");
        accuracy(h, result);
        sideBySide(h, result);
        compared(h, result, comparison);
        steps(h, result);
        if (serving != null) {
            serving(h, serving);
        }
        h.append("</body></html>\n");
        return h.toString();
    }

    private static void accuracy(StringBuilder h, DemoResult result) {
        h.append("<h2>Accuracy on held-out questions</h2>\n<p>Each client's questions are phrased as no training "
                + "example was; an answer is right when it states the client's fact. Tone: the share of a client "
                + "model's answers opened as the client speaks.</p>\n<table><tr><th>model</th><th>method</th>");
        for (Company c : SupportCorpus.CLIENTS) {
            h.append("<th>").append(esc(c.name())).append("</th>");
        }
        h.append("<th>").append(esc(Demo.UPDATED)).append(" facts</th><th>domain</th><th>tone</th></tr>\n");
        for (DemoResult.ModelScore s : result.scores()) {
            h.append("<tr><td>").append(esc(s.model())).append("</td><td>").append(esc(s.method())).append("</td>");
            for (Company c : SupportCorpus.CLIENTS) {
                cell(h, s.accuracy().get(c.id()));
            }
            cell(h, s.accuracy().get(Demo.UPDATED));
            cell(h, s.domain());
            h.append("<td class=\"num\">").append(Double.isNaN(s.tone()) ? "" : DemoTable.percent(s.tone()))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void sideBySide(StringBuilder h, DemoResult result) {
        h.append("<h2>The same questions, side by side</h2>\n<table><tr><th>question</th>");
        if (result.sideBySide().isEmpty()) {
            h.append("</tr></table>\n");
            return;
        }
        for (String model : result.sideBySide().getFirst().answers().keySet()) {
            h.append("<th>").append(esc(model)).append("</th>");
        }
        h.append("</tr>\n");
        for (DemoResult.SideBySide row : result.sideBySide()) {
            h.append("<tr><td>").append(esc(row.question())).append("</td>");
            for (Map.Entry<String, String> a : row.answers().entrySet()) {
                String fact = row.facts().get(a.getKey());
                String css = fact == null ? "" : FactScorer.correct(a.getValue(), fact) ? " class=\"right\""
                        : " class=\"wrong\"";
                h.append("<td").append(css).append(">").append(esc(a.getValue())).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static void compared(StringBuilder h, DemoResult result, DemoReport.Comparison comparison) {
        String report = result.output().relativize(comparison.dir().resolve(ReportWriter.HTML)).toString();
        h.append("<h2>The methods compared, measured and predicted</h2>\n<p>Each trained in its own process on ")
                .append(esc(Demo.FIRST_CLIENT)).append("'s task from the domain model; the cost model's prediction ")
                .append("for this machine beside what was measured. The whole comparison, with its charts: <a href=\"")
                .append(esc(report)).append("\">").append(esc(report)).append("</a>.</p>\n<table><tr><th>method</th>")
                .append("<th>trainable</th><th>seconds</th><th>predicted</th><th>peak RSS (MiB)</th>")
                .append("<th>predicted</th><th>artifact bytes</th><th>held-out loss</th></tr>\n");
        for (MethodRun r : comparison.result().runs()) {
            h.append("<tr><td>").append(esc(r.method())).append("</td><td class=\"num\">")
                    .append(String.format("%,d", r.trainableParameters())).append("</td><td class=\"num\">")
                    .append(String.format("%.1f", r.measured().trainSeconds())).append("</td><td class=\"num\">")
                    .append(String.format("%.1f", r.predicted().seconds())).append("</td><td class=\"num\">")
                    .append(String.format("%.0f", r.measured().peakRssBytes() / 1048576.0))
                    .append("</td><td class=\"num\">")
                    .append(String.format("%.0f", r.predicted().peakBytes() / 1048576.0))
                    .append("</td><td class=\"num\">").append(String.format("%,d", r.artifactBytes()))
                    .append("</td><td class=\"num\">").append(number(r.measured().evalLoss())).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void steps(StringBuilder h, DemoResult result) {
        h.append("<h2>Steps</h2>\n<table><tr><th>step</th><th>what</th><th>seconds</th><th>reused</th>"
                + "<th>train loss</th><th>held-out loss</th><th>saved bytes</th></tr>\n");
        for (DemoResult.Step s : result.steps()) {
            h.append("<tr><td>").append(esc(s.name())).append("</td><td>").append(esc(s.what()))
                    .append("</td><td class=\"num\">").append(String.format("%.1f", s.seconds()))
                    .append("</td><td>").append(s.reused() ? "yes" : "").append("</td><td class=\"num\">")
                    .append(number(s.trainLoss())).append("</td><td class=\"num\">").append(number(s.evalLoss()))
                    .append("</td><td class=\"num\">").append(s.bytes() == 0 ? "" : String.format("%,d", s.bytes()))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void serving(StringBuilder h, ServingRecord s) {
        h.append("<h2>Serving</h2>\n<p>The domain model <code>").append(esc(s.base()))
                .append("</code> served with every client's adapter at <code>").append(esc(s.url()))
                .append("</code>, one chat completion per client through the OpenAI API:</p>\n<table><tr><th>model"
                        + "</th><th>user</th><th>assistant</th></tr>\n");
        for (ServingRecord.Reply r : s.replies()) {
            h.append("<tr><td>").append(esc(r.client())).append("</td><td>").append(esc(r.question()))
                    .append("</td><td class=\"").append(r.right() ? "right" : "wrong").append("\">")
                    .append(esc(r.answer())).append("</td></tr>\n");
        }
        h.append("</table>\n");
        ServingRecord.Canary c = s.canary();
        h.append("<p><b>Canary.</b> Version ").append(c.candidate()).append(" of <code>").append(esc(c.client()))
                .append("</code> got ").append(Math.round(c.weight() * 100)).append("% of the traffic beside version ")
                .append(c.stable()).append(": of ").append(c.users()).append(" users, ").append(c.toCandidate())
                .append(" were answered by it (").append(esc(c.candidateFact())).append(" rather than ")
                .append(esc(c.stableFact())).append(").</p>\n");
        ServingRecord.Rollback r = s.rollback();
        h.append("<p><b>Rollback.</b> Version ").append(r.promoted()).append(" promoted to <code>prod</code> answered ")
                .append("&ldquo;").append(esc(r.promotedAnswer())).append("&rdquo;; rolled back, <code>prod</code> is ")
                .append("version ").append(r.restored()).append(" again and answers &ldquo;")
                .append(esc(r.restoredAnswer())).append("&rdquo;.</p>\n");
        h.append("<details><summary>Every HTTP call</summary><table><tr><th>call</th><th>body</th><th>status</th>"
                + "<th>response</th></tr>\n");
        for (ServingRecord.Call call : s.calls()) {
            h.append("<tr><td><code>").append(esc(call.method() + " " + call.path())).append("</code></td><td><code>")
                    .append(esc(call.body())).append("</code></td><td>").append(call.status())
                    .append("</td><td><code>").append(esc(call.response())).append("</code></td></tr>\n");
        }
        h.append("</table></details>\n");
    }

    private static void cell(StringBuilder h, Double share) {
        h.append("<td class=\"num\">").append(share == null ? "" : DemoTable.percent(share)).append("</td>");
    }

    private static String number(double value) {
        return Double.isNaN(value) ? "" : String.format("%.3f", value);
    }

    /** {@code text} escaped for HTML. */
    static String esc(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder s = new StringBuilder(text.length());
        for (char ch : text.toCharArray()) {
            switch (ch) {
                case '<' -> s.append("&lt;");
                case '>' -> s.append("&gt;");
                case '&' -> s.append("&amp;");
                case '"' -> s.append("&quot;");
                case '\'' -> s.append("&#39;");
                default -> s.append(ch);
            }
        }
        return s.toString();
    }
}
