package dev.tailor.bench.data;

import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import dev.tailor.train.data.Dataset;
import dev.tailor.train.data.DatasetLoader;
import dev.tailor.train.data.SequencePacker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Loading a training set end to end: reading {@code sotu.jsonl} (10.8 MB of speeches, {@code text} format),
 * encoding every line and packing into 2048-token sequences. A fresh tokenizer per iteration, so its per-word
 * cache starts cold each time, as in a real run. The shared folder is taken from {@code tailor.shared}, else
 * looked for beside the working directory and its parents.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(1)
public class DatasetBenchmark {

    /** The tokenizer directory, relative to the shared folder. */
    @Param({"models/tiny-llama", "tokenizers/llama3"})
    public String tokenizer;

    private Path data;
    private Path dir;
    private Tokenizer loaded;

    /** Finds the files. */
    @Setup(Level.Trial)
    public void locate() {
        Path shared = sharedFolder();
        data = shared.resolve("data/sotu.jsonl");
        dir = shared.resolve(tokenizer);
    }

    /** A tokenizer with a cold cache for each iteration. */
    @Setup(Level.Iteration)
    public void loadTokenizer() {
        loaded = Tokenizers.load(dir);
    }

    /** Read, encode (chunked to the sequence length) and pack all of sotu.jsonl; returns the sequence count. */
    @Benchmark
    public int loadAndPackSotu() {
        Dataset d = new DatasetLoader(loaded, null, null, false).load(data).chunkedTexts(2048);
        return new SequencePacker(2048, 0).pack(d.examples()).sequences().size();
    }

    private static Path sharedFolder() {
        String prop = System.getProperty("tailor.shared");
        if (prop != null) {
            return Path.of(prop);
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("data"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("shared folder not found: set -Dtailor.shared=<path>");
    }
}
