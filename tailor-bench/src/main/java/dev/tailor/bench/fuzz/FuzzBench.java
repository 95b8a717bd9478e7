package dev.tailor.bench.fuzz;

import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The long fuzzing mode, {@code tailor bench fuzz}: the targets of the test suite's properties with a fresh seed (or
 * a given one) for as many trials or seconds as asked, each finding printed with its input and the command that
 * replays it.
 */
public final class FuzzBench {
    private FuzzBench() {
    }

    /**
     * Runs {@code tries} trials of each target (or of {@code target} alone) within {@code budget}, trial seeds drawn
     * from {@code seed}; prints the seed first and each finding as it happens to {@code out}.
     *
     * @param target a target's name, or null for all
     * @return one result per target: its trials and findings; and the number of findings
     */
    public static Run run(String target, long tries, Duration budget, long seed, PrintStream out) {
        List<FuzzTarget> targets = target == null ? Targets.all() : List.of(Targets.byName(target));
        out.println("fuzz: seed " + seed + " (--seed " + seed + " runs these trials again)");
        long start = System.nanoTime();
        List<Fuzzer.Tally> tallies;
        try (Fuzzer fuzzer = new Fuzzer()) {
            tallies = fuzzer.run(targets, tries, budget, seed, f -> out.println("FINDING " + f));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        List<Map<String, Object>> results = tallies.stream().map(t -> {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("bench", "fuzz");
            r.put("target", t.target());
            r.put("seed", seed);
            r.put("trials", t.trials());
            r.put("findings", t.findings());
            r.put("seconds", Math.round(seconds * 10) / 10.0);
            return r;
        }).toList();
        return new Run(results, tallies.stream().mapToLong(Fuzzer.Tally::findings).sum());
    }

    /** Runs the one trial of {@code target} drawn from {@code seed}, printing its input and whether it holds. */
    public static Run replay(String target, long seed, PrintStream out) {
        if (target == null) {
            throw new IllegalArgumentException("--replay needs --target (the finding names both)");
        }
        Optional<Fuzzer.Finding> finding;
        try (Fuzzer fuzzer = new Fuzzer()) {
            finding = fuzzer.trial(Targets.byName(target), seed);
        }
        out.println(finding.map(f -> "FINDING " + f).orElse("fuzz: " + target + " seed " + seed + " holds"));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bench", "fuzz");
        r.put("target", target);
        r.put("seed", seed);
        r.put("trials", 1);
        r.put("findings", finding.isPresent() ? 1 : 0);
        return new Run(List.of(r), finding.isPresent() ? 1 : 0);
    }

    /**
     * What a run printed as results and how many findings it had.
     *
     * @param results  one {@code RESULT} object per target
     * @param findings findings over all targets
     */
    public record Run(List<Map<String, Object>> results, long findings) {
    }
}
