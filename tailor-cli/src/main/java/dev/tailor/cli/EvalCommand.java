package dev.tailor.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.model.PretrainedModel;
import dev.tailor.train.Evaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tailor eval}: causal-LM loss and perplexity of a model on a JSON Lines dataset. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Compute the causal-LM loss and perplexity of a model on a JSON Lines file of {\"text\": ...}.")
public final class EvalCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Option(names = "--data", required = true, description = "JSON Lines file; each line's text is one sequence")
    Path data;

    @Option(names = "--json", description = "print {\"loss\", \"perplexity\", \"tokens\", \"sequences\"}")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(data)) {
            throw new IllegalArgumentException("--data " + data + ": no such file");
        }
        try (PretrainedModel pretrained = PretrainedModel.load(model.resolve())) {
            long t0 = System.nanoTime();
            Evaluator.Result r = new Evaluator(pretrained.model(), pretrained.tokenizer()).evaluate(data);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (r.truncated() > 0) {
                System.err.printf("warning: %d sequence(s) truncated to the context of %d tokens%n", r.truncated(),
                        pretrained.model().config().maxPositions());
            }
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("loss", r.loss());
                out.put("perplexity", r.perplexity());
                out.put("tokens", r.tokens());
                out.put("sequences", r.sequences());
                System.out.println(new ObjectMapper().writeValueAsString(out));
            } else {
                System.out.printf("loss %.6f  perplexity %.4f  (%d tokens in %d sequences, %.1f tokens/s)%n",
                        r.loss(), r.perplexity(), r.tokens(), r.sequences(), r.tokens() / seconds);
            }
        }
        return 0;
    }
}
