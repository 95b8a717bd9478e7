package dev.tailor.compare;

import dev.tailor.cost.HardwareProfile;
import dev.tailor.cost.HardwareProfiles;

import java.util.ArrayList;
import java.util.List;

/** A comparison's result with set numbers, for the reports' tests. */
final class SampleResults {
    private SampleResults() {
    }

    /** One run of {@code method}: its loss falling from {@code firstLoss} over 20 updates. */
    static MethodRun run(String method, long trainable, double seconds, long peak, long artifact, double evalLoss,
                         double accuracy, double firstLoss, double predictedSeconds, long predictedTraining) {
        List<MethodRun.LossPoint> losses = new ArrayList<>();
        for (int s = 1; s <= 20; s++) {
            losses.add(new MethodRun.LossPoint(s, firstLoss * (1 - 0.02 * s)));
        }
        Measurement measured = new Measurement(20, 0, trainable, 20 * 4 * 128, seconds, losses.getLast().loss(),
                evalLoss, accuracy, peak, 48L << 20, 128L << 20, seconds + 5,
                new Measurement.MemoryParts(120L << 20, peak - (230L << 20), 16L << 20));
        Prediction predicted = new Prediction(trainable, 1.2e7, 0.03, predictedSeconds, 1.5, 16L << 20,
                predictedTraining / 4, predictedTraining / 2, predictedTraining / 4 - (16L << 20) / 2, 16L << 20,
                20L << 20, 16L << 20, 28L << 20, 64L << 20, 64L << 20, artifact);
        return new MethodRun(method, method + " training", "key-" + method, 1e-3, 4_188_480 + trainable, measured,
                artifact, List.copyOf(losses), predicted, 1.5, 1.2);
    }

    /** Three methods, the middle one on no Pareto front, and a projection onto an H100. */
    static ComparisonResult sample(boolean withAccuracy) {
        double nan = Double.NaN;
        List<MethodRun> runs = List.of(
                run("full", 4_188_480, 20.0, 430L << 20, 18_539_054, 2.1, withAccuracy ? 0.91 : nan, 9, 21, 86L << 20),
                run("lora", 3584, 12.0, 300L << 20, 16_092, 2.6, withAccuracy ? 0.80 : nan, 10, 16, 20L << 20),
                run("ia3", 384, 8.0, 290L << 20, 2_000, 2.4, withAccuracy ? 0.85 : nan, 10, 8.4, 100L << 20));
        HardwareProfile machine = new HardwareProfile("this-machine", "a test machine, 2 kernel threads", 0.02, 0.02,
                24_000_000_000L, 5e9, 0, 0.5, "the test");
        HardwareProfile h100 = HardwareProfiles.builtIn().get("H100", () -> machine);
        ComparisonResult.ProjectionResult projection = new ComparisonResult.ProjectionResult(h100, "llama-3-8b.json",
                8_030_261_248L, 10_240, List.of(
                new ComparisonResult.Projected("full", 8_030_261_248L, 129_000_000_000L, false, 40.0, 0.03,
                        16_000_000_000L),
                new ComparisonResult.Projected("lora", 3_407_872, 16_400_000_000L, true, 25.0, 0.02, 13_640_000),
                new ComparisonResult.Projected("ia3", 614_400, 16_100_000_000L, true, 24.0, 0.02, 2_460_000)));
        return new ComparisonResult(new ComparisonResult.Settings("tiny-llama", 4_188_480, 2, 64, "train.jsonl",
                "eval.jsonl", 20, 128, 4, 42), machine, runs, projection,
                new ComparisonResult.Environment(2, "25", List.of("-XX:+UseParallelGC", "-Xmn128m"),
                        "2026-01-01T00:00:00Z"));
    }
}
