package dev.tailor.cli;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.compare.Comparison;
import dev.tailor.compare.ComparisonResult;
import dev.tailor.compare.ComparisonSpec;
import dev.tailor.compare.MethodRun;
import dev.tailor.compare.MethodSpec;
import dev.tailor.compare.ProgressListener;
import dev.tailor.compare.ReportWriter;
import dev.tailor.compare.RuntimeBaseline;
import dev.tailor.cost.CostBase;
import dev.tailor.cost.HardwareProfile;
import dev.tailor.cost.HardwareProfiles;
import dev.tailor.cost.MachineCalibration;
import dev.tailor.train.FreezePlan;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tailor compare}: several methods trained on one base, data, budget and seed, measured and reported. */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false, modelTransformer = MethodFlags.class,
        description = "Train several methods on one base, data set, step budget and seed, each in its own process; "
                + "measure parameters, time, tokens/s, peak memory, artifact and eval loss (accuracy for "
                + "classification) beside the cost model's prediction, and write report.json, report.md and "
                + "report.html. A rerun with the same --output resumes where it stopped.")
public final class CompareCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption model;
    @Option(names = "--data", required = true, description = "training data (JSON Lines, any training format)")
    Path data;
    @Option(names = "--eval-data", description = "held-out data (default: a tenth of --data)")
    Path evalData;
    @Option(names = "--methods", split = ",", description = "the methods, in order (default: "
            + "full,partial,lora,dora,ia3,seq_bn,compacter,prompt); any of ${COMPLETION-CANDIDATES}",
            completionCandidates = TrainCommand.MethodNames.class)
    List<String> methods = new ArrayList<>(MethodSpec.DEFAULT_METHODS);
    @Mixin
    PartialPlanOptions partial = new PartialPlanOptions();
    @Option(names = "--steps", defaultValue = "100", description = "updates per method (default ${DEFAULT-VALUE})")
    int steps;
    @Option(names = "--seq-len", defaultValue = "128", description = "tokens per packed sequence (default ${DEFAULT-VALUE})")
    int seqLen;
    @Option(names = "--batch-size", defaultValue = "4", description = "sequences per update (default ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--seed", defaultValue = "42", description = "seeds data order, held-out split and adapters "
            + "(default ${DEFAULT-VALUE})")
    long seed;
    @Option(names = "--lr", description = "learning rate: VALUE for every method, or METHOD=VALUE (repeatable); "
            + "default 1e-4 for full and partial, 1e-3 for LoRA, DoRA, bottlenecks and Compacter, 3e-3 for IA3, 3e-2 "
            + "for prompt and prefix tuning")
    List<String> lr = new ArrayList<>();
    @Option(names = "--remeasure", description = "measure this machine (its kernels and the Java runtime's own memory) "
            + "again instead of reading the cached measurements")
    boolean remeasure;
    @Option(names = "--project-hardware", description = "also price the methods on this hardware profile: A100-40, "
            + "A100-80, H100, H200, L4, T4")
    String projectHardware;
    @Option(names = "--project-config", description = "with --project-hardware: the config.json of the model to "
            + "price them on (default: the base's)")
    Path projectConfig;
    @Option(names = "--project-tokens", description = "with --project-hardware: the training tokens priced (default: "
            + "those of the comparison)")
    Long projectTokens;
    @Option(names = {"-o", "--output"}, required = true, description = "the comparison's directory: runs/<method>/ "
            + "and the reports")
    Path output;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path dir = model.resolve();
        Map<String, Map<String, List<String>>> given = MethodFlags.given(spec, methods, err);
        Map<String, Double> rates = learningRates();
        List<MethodSpec> specs = new ArrayList<>();
        for (String name : methods) {
            Double rate = rates.getOrDefault(name, rates.get(null));
            specs.add(new MethodSpec(name, name.equals("partial") ? partialPlan() : null, given.get(name),
                    rate != null ? rate : MethodSpec.defaultLr(name)));
        }
        for (String named : rates.keySet()) {
            if (named != null && !methods.contains(named)) {
                throw new IllegalArgumentException("--lr " + named + "=…: " + named + " is not one of --methods "
                        + String.join(",", methods));
            }
        }
        Path cache = MachineCalibration.cacheDir(System.getenv(), Path.of(System.getProperty("user.home")));
        HardwareProfile machine = MachineCalibration.profile(cache, remeasure, err::println);
        RuntimeBaseline runtime = RuntimeBaseline.of(cache, dir, model.spec, machine, data, seqLen, batchSize,
                remeasure, err::println);
        ComparisonSpec comparison = new ComparisonSpec(dir, model.spec, data, evalData, specs, steps, seqLen, batchSize,
                seed, output, machine, runtime, projection(dir));
        boolean terminal = System.console() != null && System.console().isTerminal();
        ComparisonResult result = Comparison.run(comparison, new Progress(err, terminal));
        ReportWriter.write(result, output);
        out.print(ReportWriter.table(result));
        out.println("reports: " + output.resolve(ReportWriter.HTML) + ", " + ReportWriter.MARKDOWN + ", "
                + ReportWriter.JSON);
        out.flush();
        return 0;
    }

    /** {@code --lr}: by method name, the value for every method under null. */
    private Map<String, Double> learningRates() {
        Map<String, Double> rates = new HashMap<>();
        for (String s : lr) {
            int eq = s.indexOf('=');
            String name = eq < 0 ? null : s.substring(0, eq).strip();
            String value = eq < 0 ? s : s.substring(eq + 1);
            try {
                rates.put(name, Double.parseDouble(value.strip()));
            } catch (NumberFormatException e) {
                throw new InvalidOptionException("lr", "lr \"" + s + "\": expected a number or METHOD=NUMBER");
            }
        }
        return rates;
    }

    /** What {@code --method partial} trains: the flags' plan, or null for the default (the upper half). */
    private FreezePlan partialPlan() {
        return partial.unset() ? null : partial.plan();
    }

    private ComparisonSpec.Projection projection(Path modelDir) {
        if (projectHardware == null) {
            if (projectConfig != null || projectTokens != null) {
                throw new IllegalArgumentException("--project-config and --project-tokens need --project-hardware");
            }
            return null;
        }
        HardwareProfile hardware = HardwareProfiles.builtIn().get(projectHardware, () -> {
            throw new InvalidOptionException("project_hardware", "project_hardware must be a GPU profile (A100-40, "
                    + "A100-80, H100, H200, L4, T4), got " + projectHardware);
        });
        if (projectConfig != null && !Files.isRegularFile(projectConfig)) {
            throw new IllegalArgumentException("--project-config " + projectConfig + ": not a readable file");
        }
        CostBase base = projectConfig != null ? CostBase.read(projectConfig, projectConfig.getFileName().toString())
                : CostBase.read(modelDir, model.spec);
        long tokens = projectTokens != null ? projectTokens : (long) steps * batchSize * seqLen;
        if (tokens < 1) {
            throw new IllegalArgumentException("--project-tokens must be at least 1, got " + tokens);
        }
        return new ComparisonSpec.Projection(hardware, base, tokens);
    }

    /** A bar per method on a terminal (finished ones stay as a line), else a line every tenth of the budget. */
    static final class Progress implements ProgressListener {
        private static final int WIDTH = 24;
        private final PrintWriter err;
        private final boolean terminal;
        private final long start = System.nanoTime();
        private long methodStart;

        Progress(PrintWriter err, boolean terminal) {
            this.err = err;
            this.terminal = terminal;
        }

        @Override
        public void started(int index, int count, String method, long steps) {
            methodStart = System.nanoTime();
            if (!terminal) {
                err.printf("[%d/%d] %s: training %d updates%n", index + 1, count, method, steps);
                err.flush();
            }
        }

        @Override
        public void step(String method, long step, long steps, double loss) {
            if (terminal) {
                int filled = (int) (WIDTH * step / Math.max(1, steps));
                err.printf(Locale.ROOT, "\r%-10s [%s%s] %d/%d  loss %.4f  %s   ", method, "#".repeat(filled),
                        " ".repeat(WIDTH - filled), step, steps, loss, elapsed(methodStart));
                err.flush();
            } else if (step == steps || step % Math.max(1, steps / 10) == 0) {
                err.printf(Locale.ROOT, "%s: step %d/%d  loss %.4f%n", method, step, steps, loss);
                err.flush();
            }
        }

        @Override
        public void finished(int index, int count, MethodRun run, boolean reused) {
            String line = String.format(Locale.ROOT, "%-10s %s %d updates, %.0f tokens/s, peak %.0f MiB, eval loss "
                            + "%.4f%s%s", run.method(), reused ? "(from the run before)" : "done:", run.steps(),
                    run.tokensPerSecond(), run.peakRssBytes() / 1048576.0, run.evalLoss(),
                    Double.isNaN(run.evalAccuracy()) ? "" : String.format(Locale.ROOT, ", accuracy %.4f",
                            run.evalAccuracy()), reused ? "" : "  (" + elapsed(start) + " so far)");
            err.println(terminal ? "\r" + line + " ".repeat(8) : line);
            err.flush();
        }

        private static String elapsed(long since) {
            long s = (System.nanoTime() - since) / 1_000_000_000L;
            return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
        }
    }
}
