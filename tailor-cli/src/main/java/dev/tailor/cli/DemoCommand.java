package dev.tailor.cli;

import dev.tailor.demo.Demo;
import dev.tailor.demo.DemoResult;
import dev.tailor.demo.DemoSettings;
import dev.tailor.demo.ServingRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code tailor demo}: the whole story on a synthetic world, offline, in minutes: a base pre-trained from nothing,
 * a domain fine-tune, one adapter per client company and the other methods on one of them, scored on held-out
 * questions side by side ({@link Demo}); then the clients' adapters served over the OpenAI API, a canary and a
 * rollback ({@link DemoServing}). Everything goes under {@code --output}; a rerun reuses every finished step.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Pre-train a small model on a synthetic customer-support world, customize it per client "
                + "(a domain fine-tune, then one adapter per client; full and partial fine-tuning and IA3 beside "
                + "them), score every model on held-out questions, serve the clients' adapters with a canary and a "
                + "rollback, and write DIR/report.html and DIR/report.json.",
                "Offline, a few minutes on two cores; run again, it reuses every finished step."})
public final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", defaultValue = "tailor-demo",
            description = "where everything goes: data, tokenizer, models, adapters, logs, the report "
                    + "(default ${DEFAULT-VALUE})")
    Path output;

    @Option(names = "--quick", hidden = true, description = "every step with a smaller model and fewer updates")
    boolean quick;

    @Override
    public Integer call() throws Exception {
        if (Files.exists(output) && !Files.isDirectory(output)) {
            throw new IllegalArgumentException("--output " + output + " is a file, not a directory");
        }
        PrintWriter out = spec.commandLine().getOut();
        Demo demo = new Demo(quick ? DemoSettings.QUICK : DemoSettings.FULL, output, out);
        DemoResult result = demo.run();
        ServingRecord serving = DemoServing.run(result, out);
        demo.addServing(result, serving);
        out.printf("%nDone in %.0f s (%.0f processor seconds). Report: %s%n", demo.seconds(), demo.cpuSeconds(),
                result.output().resolve("report.html"));
        out.flush();
        return 0;
    }
}
