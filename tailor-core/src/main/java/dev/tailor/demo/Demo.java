package dev.tailor.demo;

import dev.tailor.cost.MachineCalibration;
import dev.tailor.cost.HardwareProfile;
import dev.tailor.compare.ReportWriter;
import dev.tailor.compare.RuntimeBaseline;
import dev.tailor.compare.ProgressListener;
import dev.tailor.compare.MethodSpec;
import dev.tailor.compare.MethodRun;
import dev.tailor.compare.ComparisonSpec;
import dev.tailor.compare.ComparisonResult;
import dev.tailor.compare.Comparison;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.TrainingMethod;
import dev.tailor.train.TrainingRun;
import dev.tailor.train.data.DatasetFormat;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code tailor demo}'s engine part, from nothing to scored models, every step reused when it has finished before
 * ({@link DemoSteps}):
 *
 * <ol>
 *   <li>the corpus ({@link SupportCorpus}) as JSON Lines under {@code data/}, and a tokenizer trained on it
 *   ({@link DemoTokenizer});</li>
 *   <li>a small Llama pre-trained from random weights on the general text ({@code base/});</li>
 *   <li>the hybrid: a full fine-tune of the base on the domain ({@code domain/}), then a LoRA adapter per client on
 *   the domain model ({@code adapters/CLIENT/}), and a second version of the first client's on its updated facts;</li>
 *   <li>the other methods on the first client's task ({@code methods/METHOD/}): full and partial fine-tuning and
 *   IA³;</li>
 *   <li>every model asked every client's held-out questions ({@link DemoScoring}), the table and the side-by-side
 *   answers printed, and the report written ({@link #compareMethods}).</li>
 * </ol>
 */
public final class Demo {
    /** The client whose task every method is compared on. */
    public static final String FIRST_CLIENT = SupportCorpus.CLIENTS.getFirst().id();
    /**
     * The version of what the steps make, part of every step's key: a change to how a step makes its files (the
     * tokenizer, the training recipe) raises it, so an output made before is made again rather than reused.
     */
    static final int STEP_FORMAT = 1;
    /** The directory, under the output, of the comparison of methods and its reports. */
    static final String COMPARE = "compare";
    /** The id of the first client's updated facts and of its second adapter. */
    public static final String UPDATED = FIRST_CLIENT + "-v2";

    private final DemoSettings settings;
    private final Path output;
    private final PrintWriter out;
    private final DemoSteps steps;
    private final DemoTraining training;
    private final List<DemoResult.Step> done = new ArrayList<>();
    private final long start = System.nanoTime();
    private final double cpuStart = DemoSteps.cpuSeconds();
    private DemoReport.Comparison comparison;

    /** A demo of {@code settings} into {@code output}, printing its progress and tables on {@code out}. */
    public Demo(DemoSettings settings, Path output, PrintWriter out) {
        this.settings = settings;
        this.output = output.toAbsolutePath().normalize();
        this.out = out;
        this.steps = new DemoSteps(this.output);
        this.training = new DemoTraining(settings, this.output.resolve("logs"));
    }

    /**
     * The files of the corpus, the key of their content, and the texts the tokenizer learns from: the pre-training
     * and domain text only, so the clients' names and numbers are made of pieces the base has seen (an adapter cannot
     * teach the embedding of a token the base never trained).
     */
    private record Corpus(Path pretraining, Path domain, Map<String, Path> train, Map<String, Path> eval,
                          List<String> tokenizerTexts, String key) {
    }

    /**
     * Runs every step (reusing the finished ones), prints the accuracy table and the side-by-side answers, and writes
     * {@code report.json} and {@code report.html}.
     */
    public DemoResult run() throws IOException {
        Files.createDirectories(output);
        out.printf("tailor demo (%s) into %s%n", settings.name(), output);
        Corpus corpus = writeCorpus();
        String tokenizerKey = key(STEP_FORMAT, corpus.key, settings.vocabSize(), DemoTokenizer.MIN_COUNT);
        DemoSteps.Done tokenizer = steps.run("tokenizer", tokenizerKey, (dir, resume) ->
                DemoTokenizer.write(dir, corpus.tokenizerTexts, settings.vocabSize()));
        int vocab = DemoFiles.JSON.readTree(tokenizer.dir().resolve("tokenizer.json").toFile())
                .path("model").path("vocab").size();
        record("tokenizer", "the corpus's frequent words and the 256 bytes: " + vocab + " tokens", tokenizer, false);
        Path config = output.resolve("data/model-config.json");
        DemoFiles.writeJson(config, settings.modelConfig(vocab));

        String baseKey = key(tokenizerKey, DemoFiles.JSON.writeValueAsString(settings.modelConfig(vocab)),
                settings.baseSteps(), settings.baseLr(), settings.seqLen(), settings.batchSize(), settings.seed());
        DemoSteps.Done base = train("base", baseKey, "pre-trained from random weights on general support text",
                new DemoTraining.Job(new TrainingRun.Base.RandomInit(config, tokenizer.dir()), corpus.pretraining, null,
                        DatasetFormat.TEXT, fullFineTuning(), settings.baseSteps(), settings.batchSize(),
                        settings.baseLr()));
        String domainKey = key(baseKey, settings.domainSteps(), settings.fineTuneLr(), settings.batchSize());
        DemoSteps.Done domain = train("domain", domainKey, "full fine-tune of the base on kitchen-appliance text",
                new DemoTraining.Job(pretrained(base.dir()), corpus.domain, null, DatasetFormat.TEXT,
                        fullFineTuning(), settings.domainSteps(), settings.batchSize(), settings.fineTuneLr()));

        Map<String, Path> adapters = trainAdapters(corpus, domain.dir(), domainKey);
        Map<String, Path> methods = trainMethods(corpus, domain.dir(), domainKey);

        long scoring = System.nanoTime();
        double scoringCpu = DemoSteps.cpuSeconds();
        DemoScoring scores = new DemoScoring(new SupportCorpus(settings.seed(), settings.companies()));
        scores.scoreAll(base.dir(), domain.dir(), adapters, methods);
        double scoringSeconds = (System.nanoTime() - scoring) / 1e9;
        String what = "every model asked every client's held-out questions";
        done.add(new DemoResult.Step("scores", what, scoringSeconds, DemoSteps.cpuSeconds() - scoringCpu, false,
                Double.NaN, Double.NaN, 0));
        out.printf("%-18s %s (%.1f s)%n%n", "scores", what, scoringSeconds);
        Map<String, Path> clients = new LinkedHashMap<>(adapters);
        Path updated = clients.remove(UPDATED);
        DemoResult result = new DemoResult(settings, output, describeModel(vocab), done, domain.dir(), clients,
                updated, scores.scores(), scores.sideBySide(), seconds(), cpuSeconds());
        DemoTable.print(result, out);
        compareMethods(result, domain.dir(), corpus.train.get(FIRST_CLIENT), corpus.eval.get(FIRST_CLIENT), output);
        return result;
    }

    /** A LoRA adapter per client on the domain model, and the first client's second one, by client id. */
    private Map<String, Path> trainAdapters(Corpus corpus, Path domain, String domainKey) throws IOException {
        List<String> ids = new ArrayList<>(SupportCorpus.CLIENTS.stream().map(Company::id).toList());
        ids.add(UPDATED);
        Map<String, Path> adapters = new LinkedHashMap<>();
        for (String id : ids) {
            String key = key(domainKey, "lora", id, settings.adapterSteps(), settings.taskBatchSize(),
                    settings.adapterLr());
            String what = "LoRA adapter on the domain model for "
                    + (id.equals(UPDATED) ? FIRST_CLIENT + "'s updated facts" : id);
            adapters.put(id, train("adapters/" + id, key, what, new DemoTraining.Job(pretrained(domain),
                    corpus.train.get(id), corpus.eval.get(id), DatasetFormat.COMPLETION, lora("lora"),
                    settings.adapterSteps(), settings.taskBatchSize(), settings.adapterLr())).dir());
        }
        return adapters;
    }

    /** Every other method on the first client's task from the domain model, by method. */
    private Map<String, Path> trainMethods(Corpus corpus, Path domain, String domainKey) throws IOException {
        Map<String, Path> methods = new LinkedHashMap<>();
        for (String method : settings.methods()) {
            String key = key(domainKey, method, settings.adapterSteps(), settings.taskBatchSize(),
                    learningRate(method));
            String what = describe(method) + " on the domain model for " + FIRST_CLIENT;
            methods.put(method, train("methods/" + method, key, what, new DemoTraining.Job(pretrained(domain),
                    corpus.train.get(FIRST_CLIENT), corpus.eval.get(FIRST_CLIENT), DatasetFormat.COMPLETION,
                    method(method), settings.adapterSteps(), settings.taskBatchSize(), learningRate(method))).dir());
        }
        return methods;
    }

    /**
     * Compares the methods of {@link DemoSettings#compared()} on the first client's task from the domain model with
     * {@code tailor compare}'s engine (each trained in its own process, measured beside the cost model's prediction on
     * this machine; finished ones reused), writes its reports into {@code compare/}, prints its table, and writes the
     * demo's {@code report.json} and {@code report.html} with the comparison's results in them.
     */
    void compareMethods(DemoResult result, Path baseDir, Path trainJsonl, Path evalJsonl, Path outputDir)
            throws IOException {
        long t = System.nanoTime();
        double cpu = DemoSteps.cpuSeconds();
        List<MethodSpec> methods = new ArrayList<>();
        for (String m : settings.compared()) {
            methods.add(new MethodSpec(m, m.equals("partial") ? partialPlan() : null, Map.of(),
                    m.startsWith("prompt") ? MethodSpec.defaultLr(m) : learningRate(m)));
        }
        Path cache = MachineCalibration.cacheDir(System.getenv(), Path.of(System.getProperty("user.home")));
        Path dir = outputDir.resolve(COMPARE);
        ComparisonResult compared;
        int[] trained = {0};
        try {
            HardwareProfile machine = MachineCalibration.profile(cache, false, this::note);
            RuntimeBaseline runtime = RuntimeBaseline.of(cache, baseDir, "domain", machine, trainJsonl, settings.seqLen(),
                    settings.taskBatchSize(), false, this::note);
            ComparisonSpec spec = new ComparisonSpec(baseDir, "domain", trainJsonl, evalJsonl, methods,
                    settings.compareSteps(), settings.seqLen(), settings.taskBatchSize(), settings.seed(), dir,
                    machine, runtime, null);
            compared = Comparison.run(spec, new ProgressListener() {
                @Override
                public void finished(int index, int count, MethodRun run, boolean reused) {
                    trained[0] += reused ? 0 : 1;
                    out.printf("%-18s %s (%d of %d%s)%n", COMPARE, run.method(), index + 1, count,
                            reused ? ", reused" : "");
                    out.flush();
                }
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("the comparison of methods was interrupted");
        }
        ReportWriter.write(compared, dir);
        double seconds = (System.nanoTime() - t) / 1e9;
        String what = "the methods compared on " + FIRST_CLIENT + "'s task, measured beside the cost model";
        done.add(new DemoResult.Step(COMPARE, what, seconds, DemoSteps.cpuSeconds() - cpu, trained[0] == 0,
                Double.NaN, Double.NaN, 0));
        out.printf("%n%s%n", what);
        out.print(ReportWriter.table(compared));
        out.printf("%-18s %s (%.1f s)%n%n", COMPARE, dir.resolve(ReportWriter.HTML), seconds);
        comparison = new DemoReport.Comparison(baseDir, trainJsonl, evalJsonl, dir, compared);
        DemoReport.write(outputDir, withTimes(result), comparison, null);
    }

    /** Prints a note of the comparison's measurements of this machine. */
    private void note(String line) {
        out.printf("%-18s %s%n", COMPARE, line);
        out.flush();
    }

    /** {@code r} with every step done so far and the time taken so far. */
    private DemoResult withTimes(DemoResult r) {
        return new DemoResult(r.settings(), r.output(), r.model(), done, r.domainModel(), r.clientAdapters(),
                r.updatedAdapter(), r.scores(), r.sideBySide(), seconds(), cpuSeconds());
    }

    /**
     * Writes the report again with what the server part did.
     *
     * @throws IllegalStateException before {@link #run()} has written the report
     */
    public void addServing(DemoResult result, ServingRecord serving) throws IOException {
        if (comparison == null) {
            throw new IllegalStateException("the demo has not run yet");
        }
        DemoReport.write(output, withTimes(result), comparison, serving);
    }

    private Corpus writeCorpus() throws IOException {
        long t = System.nanoTime();
        SupportCorpus corpus = new SupportCorpus(settings.seed(), settings.companies());
        Path data = output.resolve("data");
        Files.createDirectories(data);
        List<String> pretraining = corpus.pretrainingTexts();
        List<String> domain = corpus.domainTexts();
        List<String> texts = new ArrayList<>(pretraining);
        texts.addAll(domain);
        Path pretrainingFile = data.resolve("pretraining.jsonl");
        Path domainFile = data.resolve("domain.jsonl");
        DemoFiles.writeJsonLines(pretrainingFile, pretraining.stream().map(s -> Map.of("text", s)).toList());
        DemoFiles.writeJsonLines(domainFile, domain.stream().map(s -> Map.of("text", s)).toList());
        Map<String, Path> train = new LinkedHashMap<>();
        Map<String, Path> eval = new LinkedHashMap<>();
        List<Company> clients = new ArrayList<>(SupportCorpus.CLIENTS);
        clients.add(SupportCorpus.UPDATED_CLIENT);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < clients.size(); i++) {
            Company c = clients.get(i);
            String id = i < SupportCorpus.CLIENTS.size() ? c.id() : UPDATED;
            List<SupportQuestion> training = corpus.clientTraining(c);
            List<SupportQuestion> heldOut = corpus.clientHeldOut(c);
            train.put(id, data.resolve(id + "-train.jsonl"));
            eval.put(id, data.resolve(id + "-eval.jsonl"));
            DemoFiles.writeJsonLines(train.get(id), training.stream().map(q -> Map.of("prompt", q.prompt(),
                    "completion", q.completion())).toList());
            DemoFiles.writeJsonLines(eval.get(id), heldOut.stream().map(q -> Map.of("prompt", q.prompt(),
                    "completion", q.completion(), "topic", q.topic(), "fact", q.fact())).toList());
            training.forEach(q -> all.append(q.transcript()));
            heldOut.forEach(q -> all.append(q.transcript()));
        }
        texts.forEach(all::append);
        String key = DemoFiles.sha256(all.toString());
        out.printf("%-18s %,d pre-training and %,d domain documents, %d clients' questions (%.1f s)%n", "corpus",
                pretraining.size(), domain.size(), SupportCorpus.CLIENTS.size(), (System.nanoTime() - t) / 1e9);
        return new Corpus(pretrainingFile, domainFile, train, eval, texts, key);
    }

    private DemoSteps.Done train(String name, String key, String what, DemoTraining.Job job) throws IOException {
        DemoSteps.Done d = steps.run(name, key, (dir, resume) -> training.run(name, job, dir, resume));
        record(name, what, d, true);
        return d;
    }

    private void record(String name, String what, DemoSteps.Done d, boolean trained) throws IOException {
        DemoTraining.Numbers n = trained ? DemoTraining.numbers(d.dir()) : null;
        long bytes = trained ? weightBytes(d.dir()) : 0;
        done.add(new DemoResult.Step(name, what, d.seconds(), d.cpuSeconds(), d.reused(),
                n == null ? Double.NaN : n.trainLoss(), n == null ? Double.NaN : n.evalLoss(), bytes));
        String numbers = n == null ? "" : String.format(", %d steps, loss %.3f%s", n.steps(), n.trainLoss(),
                Double.isNaN(n.evalLoss()) ? "" : String.format(", held-out loss %.3f", n.evalLoss()));
        out.printf("%-18s %s%s (%s)%n", name, what, numbers, d.reused()
                ? String.format("reused; %.1f s when made", d.seconds()) : String.format("%.1f s", d.seconds()));
        out.flush();
    }

    /** The bytes of the safetensors files in {@code dir}. */
    private static long weightBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            long total = 0;
            for (Path f : files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                total += Files.size(f);
            }
            return total;
        }
    }

    private String describeModel(int vocab) {
        long params = parameters(vocab);
        return String.format("Llama, %d layers, hidden %d, %d heads (%d key/value), MLP %d, vocabulary %d, "
                        + "tied embeddings: %,d parameters", settings.layers(), settings.hidden(), settings.heads(),
                settings.kvHeads(), settings.intermediate(), vocab, params);
    }

    private long parameters(int vocab) {
        long d = settings.hidden();
        long kv = d / settings.heads() * settings.kvHeads();
        long block = d * d * 2 + d * kv * 2 + 3 * d * settings.intermediate() + 2 * d;
        return vocab * d + settings.layers() * block + d;
    }

    private static TrainingMethod fullFineTuning() {
        return new TrainingMethod.FineTuning("full", FreezePlan.fullFineTuning());
    }

    private TrainingMethod method(String name) {
        return switch (name) {
            case "full" -> fullFineTuning();
            case "partial" -> new TrainingMethod.FineTuning("partial", partialPlan());
            case "lora", "dora" -> lora(name);
            default -> TrainingMethod.of(name, null, Map.of());
        };
    }

    /** The upper half of the layers (at least one). */
    private FreezePlan partialPlan() {
        int from = settings.layers() / 2;
        return new FreezePlan(false, new int[] {Math.min(from, settings.layers() - 1), settings.layers() - 1},
                List.of(), false, false, false);
    }

    private static TrainingMethod lora(String name) {
        return TrainingMethod.of(name, null, Map.of("r", List.of("8"), "lora_alpha", List.of("16"),
                "target_modules", List.of("all-linear")));
    }

    private String describe(String method) {
        return switch (method) {
            case "full" -> "full fine-tune";
            case "partial" -> {
                int[] layers = partialPlan().layers();
                yield "partial fine-tune (layers " + layers[0] + "-" + layers[1] + ")";
            }
            case "ia3" -> "IA3 adapter";
            default -> method + " adapter";
        };
    }

    private double learningRate(String method) {
        return switch (method) {
            case "full", "partial" -> settings.fineTuneLr();
            case "ia3" -> settings.ia3Lr();
            default -> settings.adapterLr();
        };
    }

    private static TrainingRun.Base pretrained(Path dir) {
        return new TrainingRun.Base.Pretrained(dir, dir.getFileName().toString());
    }

    /** Processor seconds this process has used since this demo was made, on every core. */
    public double cpuSeconds() {
        return DemoSteps.cpuSeconds() - cpuStart;
    }

    /** Seconds since this demo was made. */
    public double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    /** A key for a step's inputs: the SHA-256 of their text. */
    private static String key(Object... parts) {
        StringBuilder s = new StringBuilder();
        for (Object p : parts) {
            s.append(p).append('\u0000');
        }
        return DemoFiles.sha256(s.toString());
    }
}
