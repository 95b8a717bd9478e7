package dev.tailor.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.model.PretrainedModel;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.train.data.DatasetFormat;
import dev.tailor.train.data.JsonLines;
import dev.tailor.train.Evaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tailor eval}: causal-LM loss and perplexity of a model on a JSON Lines dataset. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Compute the causal-LM loss and perplexity of a model on JSON Lines data in any training format "
                + "(and accuracy for classification data).")
public final class EvalCommand implements Callable<Integer> {
    @Mixin
    QuantizeOption quantize;


    @Mixin
    ModelOption model;

    @Mixin
    AdapterOptions adapters;

    @Option(names = "--data", required = true, description = "JSON Lines file; each line is one sequence")
    Path data;

    @Option(names = "--format", description = "text, completion, alpaca, chat or classification (default: detected)")
    String format;

    @Option(names = "--skip-bad-lines", description = "skip malformed lines (counted) instead of failing")
    boolean skipBadLines;

    @Option(names = "--json", description = "print {\"loss\", \"perplexity\", \"tokens\", \"sequences\"} "
            + "(null for a value that is not finite)")
    boolean json;

    @Override
    public Integer call() throws Exception {
        JsonLines.requireReadableFile(data);
        Path dir = model.resolve();
        try (PretrainedModel pretrained = PretrainedModel.load(dir, quantize.loading())) {
            long t0 = System.nanoTime();
            ChatTemplate template = pretrained.chatTemplateIfAny();
            Evaluator.Result r = new Evaluator(adapters.apply(pretrained.model(), dir), pretrained.tokenizer(), template)
                    .evaluate(data, format == null ? null : DatasetFormat.parse(format), skipBadLines);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (r.truncated() > 0) {
                System.err.printf("warning: %d sequence(s) truncated to the context of %d tokens%n", r.truncated(),
                        pretrained.model().config().maxPositions());
            }
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("loss", finiteOrNull(r.loss()));
                out.put("perplexity", finiteOrNull(r.perplexity()));
                out.put("tokens", r.tokens());
                out.put("sequences", r.sequences());
                if (!Double.isNaN(r.accuracy())) {
                    out.put("accuracy", finiteOrNull(r.accuracy()));
                }
                System.out.println(new ObjectMapper().writeValueAsString(out));
            } else {
                System.out.printf("%s: loss %.6f  perplexity %.4f%s  (%d tokens in %d sequences, %.1f tokens/s)%n",
                        r.format().id(), r.loss(), r.perplexity(),
                        Double.isNaN(r.accuracy()) ? "" : String.format("  accuracy %.4f", r.accuracy()),
                        r.tokens(), r.sequences(), r.tokens() / seconds);
            }
            if (r.skipped() > 0) {
                System.err.printf("warning: %d bad line(s) skipped%n", r.skipped());
            }
            if (!Double.isFinite(r.loss())) {
                System.err.println("error: the loss on " + data + " is " + r.loss() + ": the model computes values "
                        + "that are not finite");
                return 1;
            }
        }
        return 0;
    }

    /** {@code v}, or null (JSON's null) when it is NaN or infinite, which JSON cannot hold. */
    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
