package dev.tailor.bench.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Runs fuzz trials: each draws its input from a seed, so a finding is reproduced by its target and seed alone. A
 * trial fails when the loader throws anything but a refusal it documents, a refusal that does not name the file or
 * option, runs out of memory or the stack, or takes longer than the time limit.
 */
public final class Fuzzer implements AutoCloseable {
    /** How long one trial may take before it counts as a hang. */
    public static final Duration LIMIT = Duration.ofSeconds(2);
    private static final int INPUT_SHOWN = 2000;

    private ExecutorService worker = newWorker();

    /**
     * A property violated by one trial.
     *
     * @param target  the target's name
     * @param seed    the trial's seed
     * @param problem what went wrong (the unexpected exception, the unnamed file, the hang)
     * @param input   the input, cut to a readable length
     */
    public record Finding(String target, long seed, String problem, String input) {
        /** The command that runs this trial again and prints it. */
        public String reproducer() {
            return "tailor bench fuzz --target " + target + " --replay " + seed;
        }

        @Override
        public String toString() {
            return target + " seed " + seed + ": " + problem + "\n  input: " + input + "\n  reproduce: "
                    + reproducer();
        }
    }

    /** Totals of a run of one target. */
    public record Tally(String target, long trials, long findings) {
    }

    /** Runs the trial of {@code target} drawn from {@code seed}; the finding if the property does not hold. */
    public Optional<Finding> trial(FuzzTarget target, long seed) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("tailor-fuzz-");
            FuzzTarget.Trial trial = target.draw(new SplittableRandom(seed), dir);
            String problem = problem(trial);
            return Optional.ofNullable(problem).map(p -> new Finding(target.name(), seed, p, shown(trial.input())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteQuietly(dir);
        }
    }

    /**
     * Runs trials of {@code targets} in turn, with seeds drawn from {@code seed}, until {@code tries} trials of each
     * have run or {@code budget} has passed; reports each finding to {@code findings} as it happens.
     */
    public List<Tally> run(List<FuzzTarget> targets, long tries, Duration budget, long seed,
                           Consumer<Finding> findings) {
        SplittableRandom seeds = new SplittableRandom(seed);
        long[] trials = new long[targets.size()];
        long[] failed = new long[targets.size()];
        long deadline = System.nanoTime() + budget.toNanos();
        for (long n = 0; n < tries && System.nanoTime() < deadline; n++) {
            for (int t = 0; t < targets.size() && System.nanoTime() < deadline; t++) {
                Optional<Finding> f = trial(targets.get(t), seeds.nextLong());
                trials[t]++;
                if (f.isPresent()) {
                    failed[t]++;
                    findings.accept(f.get());
                }
            }
        }
        return Stream.iterate(0, t -> t + 1).limit(targets.size())
                .map(t -> new Tally(targets.get(t).name(), trials[t], failed[t])).toList();
    }

    /** What is wrong with how the trial's loader ended, or null when it kept the property. */
    private String problem(FuzzTarget.Trial trial) {
        Future<?> done = worker.submit(() -> {
            trial.run().run();
            return null;
        });
        try {
            done.get(LIMIT.toMillis(), TimeUnit.MILLISECONDS);
            return null;
        } catch (TimeoutException e) {
            done.cancel(true);
            worker.shutdownNow();
            worker = newWorker();
            return "took longer than " + LIMIT.toSeconds() + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fuzzing", e);
        } catch (ExecutionException e) {
            return problem(trial, e.getCause());
        }
    }

    private static String problem(FuzzTarget.Trial trial, Throwable t) {
        if (trial.refusals().stream().noneMatch(type -> type.isInstance(t))) {
            return "threw " + t + at(t);
        }
        String message = String.valueOf(t.getMessage());
        if (!trial.named().isEmpty() && trial.named().stream().noneMatch(message::contains)) {
            return "refused without naming " + String.join(" or ", trial.named()) + ": " + t;
        }
        return null;
    }

    /** Where {@code t} was thrown: its first frame in Tailor's code. */
    private static String at(Throwable t) {
        return Stream.of(t.getStackTrace()).filter(f -> f.getClassName().startsWith("dev.tailor."))
                .filter(f -> !f.getClassName().startsWith("dev.tailor.bench.fuzz.")).findFirst()
                .map(f -> " at " + f).orElse("");
    }

    private static String shown(String input) {
        return input.length() <= INPUT_SHOWN ? input
                : input.substring(0, INPUT_SHOWN) + "… (" + input.length() + " characters)";
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-trial");
            t.setDaemon(true);
            return t;
        });
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a hung trial may still hold its files; the temporary directory is left behind
        }
    }

    /** Stops the worker thread. */
    @Override
    public void close() {
        worker.shutdownNow();
    }
}
