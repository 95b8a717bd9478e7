package dev.tailor.bench.tokenizer;

import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Loading a {@code tokenizer.json} and encoding Moby-Dick (1.2 MB) with it. The shared folder is taken from the
 * system property {@code tailor.shared}, else looked for beside the working directory and its parents.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(1)
public class TokenizerBenchmark {

    /** The tokenizer directory, relative to the shared folder. */
    @Param({"models/tiny-llama", "tokenizers/llama3", "tokenizers/qwen3"})
    public String tokenizer;

    private Path dir;
    private String text;
    private Tokenizer loaded;

    /** Finds the files and loads the tokenizer once for the encoding benchmark. */
    @Setup
    public void setup() throws IOException {
        Path shared = sharedFolder();
        dir = shared.resolve(tokenizer);
        text = Files.readString(shared.resolve("data/moby-dick.txt"));
        loaded = Tokenizers.load(dir);
    }

    /** Reading and building the tokenizer. */
    @Benchmark
    public Tokenizer load() {
        return Tokenizers.load(dir);
    }

    /** Encoding the whole text (the per-word cache is warm after the first iteration). */
    @Benchmark
    public int[] encodeMobyDick() {
        return loaded.encode(text, false);
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
