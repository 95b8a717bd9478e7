package dev.tailor.demo;

import dev.tailor.compare.ComparisonResult;
import dev.tailor.compare.MethodRun;
import dev.tailor.compare.ReportWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The demo's report: {@value #JSON} (every number, for scripts) and {@value #HTML} (one self-contained page), both
 * written atomically into the output directory.
 */
public final class DemoReport {
    /** The JSON report's file name. */
    public static final String JSON = "report.json";
    /** The HTML report's file name. */
    public static final String HTML = "report.html";

    private DemoReport() {
    }

    /**
     * The comparison of methods: its inputs, where its reports are, and its results.
     *
     * @param base   the base model's directory
     * @param train  the training JSON Lines
     * @param eval   the held-out JSON Lines
     * @param dir    the directory of its runs and reports
     * @param result its measured runs and predictions
     */
    public record Comparison(Path base, Path train, Path eval, Path dir, ComparisonResult result) {
    }

    /** Writes both files into {@code dir}; {@code serving} is null until the server part has run. */
    public static void write(Path dir, DemoResult result, Comparison comparison, ServingRecord serving)
            throws IOException {
        DemoFiles.writeJson(dir.resolve(JSON), json(dir, result, comparison, serving));
        DemoFiles.writeText(dir.resolve(HTML), DemoReportHtml.render(result, comparison, serving));
    }

    static ObjectNode json(Path dir, DemoResult result, Comparison comparison, ServingRecord serving) {
        ObjectNode root = DemoFiles.JSON.createObjectNode();
        ObjectNode demo = root.putObject("demo");
        demo.put("size", result.settings().name());
        demo.put("seed", result.settings().seed());
        demo.put("model", result.model());
        demo.put("seconds", round(result.seconds()));
        demo.put("cpu_seconds", round(result.cpuSeconds()));
        ArrayNode steps = root.putArray("steps");
        for (DemoResult.Step s : result.steps()) {
            ObjectNode n = steps.addObject();
            n.put("name", s.name());
            n.put("what", s.what());
            n.put("seconds", round(s.seconds()));
            n.put("cpu_seconds", round(s.cpuSeconds()));
            n.put("reused", s.reused());
            number(n, "train_loss", s.trainLoss());
            number(n, "eval_loss", s.evalLoss());
            n.put("bytes", s.bytes());
        }
        ArrayNode clients = root.putArray("clients");
        for (Company c : SupportCorpus.CLIENTS) {
            ObjectNode n = clients.addObject();
            n.put("id", c.id());
            n.put("name", c.name());
            n.put("tone", c.opener());
            n.put("adapter", relative(dir, result.clientAdapters().get(c.id())));
            ObjectNode facts = n.putObject("facts");
            for (FactKind kind : FactKind.values()) {
                if (kind.perCategory()) {
                    c.categories().forEach(cat -> facts.put(kind.name().toLowerCase(Locale.ROOT) + " of the "
                            + cat, c.answer(kind, cat).fact()));
                } else {
                    facts.put(kind.name().toLowerCase(Locale.ROOT), c.answer(kind, null).fact());
                }
            }
        }
        ArrayNode scores = root.putArray("scores");
        for (DemoResult.ModelScore s : result.scores()) {
            ObjectNode n = scores.addObject();
            n.put("model", s.model());
            n.put("method", s.method());
            n.put("client", s.client());
            ObjectNode accuracy = n.putObject("accuracy");
            s.accuracy().forEach((client, a) -> accuracy.put(client, round(a)));
            n.put("domain", round(s.domain()));
            number(n, "tone", s.tone());
            ObjectNode answers = n.putObject("answers");
            s.answers().forEach(answers::put);
        }
        ArrayNode sideBySide = root.putArray("side_by_side");
        for (DemoResult.SideBySide row : result.sideBySide()) {
            ObjectNode n = sideBySide.addObject();
            n.put("question", row.question());
            ObjectNode facts = n.putObject("facts");
            row.facts().forEach(facts::put);
            ObjectNode answers = n.putObject("answers");
            row.answers().forEach(answers::put);
        }
        ObjectNode compared = root.putObject("comparison");
        compared.put("base", relative(dir, comparison.base()));
        compared.put("train", relative(dir, comparison.train()));
        compared.put("eval", relative(dir, comparison.eval()));
        compared.put("report", relative(dir, comparison.dir().resolve(ReportWriter.HTML)));
        ArrayNode runs = compared.putArray("methods");
        for (MethodRun run : comparison.result().runs()) {
            ObjectNode n = runs.addObject();
            n.put("method", run.method());
            n.put("trainable_parameters", run.trainableParameters());
            n.put("seconds", round(run.measured().trainSeconds()));
            n.put("peak_rss_bytes", run.measured().peakRssBytes());
            n.put("artifact_bytes", run.artifactBytes());
            number(n, "eval_loss", run.measured().evalLoss());
            number(n, "predicted_seconds", run.predicted().seconds());
            number(n, "predicted_peak_bytes", run.predicted().peakBytes());
        }
        if (serving == null) {
            root.putNull("serving");
        } else {
            root.set("serving", serving(serving));
        }
        return root;
    }

    private static ObjectNode serving(ServingRecord s) {
        ObjectNode n = DemoFiles.JSON.createObjectNode();
        n.put("url", s.url());
        n.put("base", s.base());
        n.put("seconds", round(s.seconds()));
        ArrayNode replies = n.putArray("replies");
        for (ServingRecord.Reply r : s.replies()) {
            ObjectNode reply = replies.addObject();
            reply.put("client", r.client());
            reply.put("question", r.question());
            reply.put("answer", r.answer());
            reply.put("right", r.right());
        }
        ServingRecord.Canary c = s.canary();
        ObjectNode canary = n.putObject("canary");
        canary.put("client", c.client());
        canary.put("stable_version", c.stable());
        canary.put("canary_version", c.candidate());
        canary.put("weight", c.weight());
        canary.put("users", c.users());
        canary.put("users_on_canary", c.toCandidate());
        canary.put("stable_answer", c.stableFact());
        canary.put("canary_answer", c.candidateFact());
        ServingRecord.Rollback r = s.rollback();
        ObjectNode rollback = n.putObject("rollback");
        rollback.put("client", r.client());
        rollback.put("promoted_version", r.promoted());
        rollback.put("promoted_answer", r.promotedAnswer());
        rollback.put("prod_after_rollback", r.restored());
        rollback.put("answer_after_rollback", r.restoredAnswer());
        ArrayNode calls = n.putArray("calls");
        for (ServingRecord.Call call : s.calls()) {
            ObjectNode o = calls.addObject();
            o.put("method", call.method());
            o.put("path", call.path());
            o.put("body", call.body());
            o.put("status", call.status());
            o.put("response", call.response());
        }
        return n;
    }

    private static void number(ObjectNode n, String field, double value) {
        if (Double.isNaN(value)) {
            n.putNull(field);
        } else {
            n.put(field, round(value));
        }
    }

    private static double round(double value) {
        return Math.round(value * 10000) / 10000.0;
    }

    /** {@code path} relative to {@code dir} when it lies inside it, else as it is. */
    private static String relative(Path dir, Path path) {
        if (path == null) {
            return null;
        }
        Path d = dir.toAbsolutePath().normalize();
        Path p = path.toAbsolutePath().normalize();
        return p.startsWith(d) ? d.relativize(p).toString() : p.toString();
    }
}
