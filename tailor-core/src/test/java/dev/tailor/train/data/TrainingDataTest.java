package dev.tailor.train.data;

import dev.tailor.Shared;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole pipeline from config to batches, with a held-out fraction and with a separate eval file. */
class TrainingDataTest {
    @TempDir
    Path dir;

    @Test
    void heldOutFractionOfChunkedText() {
        Tokenizer tokenizer = Tokenizers.load(Shared.require("models/tiny-llama"));
        DataConfig config = DataConfig.of(Shared.require("data/moby-dick.txt"), 1024, 4);
        TrainingData data = TrainingData.load(config, tokenizer, null);
        int chunks = data.split().train().size() + data.split().eval().size();
        assertEquals(Math.round(chunks * 0.1), data.split().eval().size());
        assertEquals(0, data.train().packing().truncated());
        assertEquals(data.split().train().size(), data.train().packing().sequences().size(),
                "full chunks fill a sequence each (the short last one too)");
        Batch first = data.train().next();
        assertEquals(4, first.size());
        assertEquals(1024, first.seqLen());
        long tokens = data.split().train().stream().mapToLong(Example::length).sum();
        long labelled = data.train().packing().sequences().stream().mapToLong(PackedSequence::labelledTokens).sum();
        assertEquals(tokens - data.split().train().size(), labelled, "every token but each chunk's first");
        assertTrue(data.summary().startsWith("text data: "), data.summary());
    }

    @Test
    void separateEvalFileKeepsItsOwnExamplesAndSkipsBadLines() throws IOException {
        Tokenizer tokenizer = Tokenizers.load(Shared.require("models/tiny-llama"));
        Path train = Files.write(dir.resolve("train.jsonl"), List.of(
                "{\"text\": \"Win money\", \"label\": \"spam\"}", "{\"text\": \"Lunch?\", \"label\": \"ham\"}",
                "{\"text\": \"Cheap pills\", \"label\": \"spam\"}"));
        Path eval = Files.write(dir.resolve("eval.jsonl"), List.of(
                "{\"text\": \"Free money\", \"label\": \"spam\"}", "{\"text\": \"Dinner?\", \"label\": \"maybe\"}"));
        DataConfig config = new DataConfig(train, eval, null, 0.5, 64, 2, 1, true, true);
        TrainingData data = TrainingData.load(config, tokenizer, null);
        assertEquals(DatasetFormat.CLASSIFICATION, data.format());
        assertEquals(3, data.split().train().size());
        assertEquals(1, data.split().eval().size());
        assertEquals(List.of(eval + ":2: field \"label\": \"maybe\" never occurs in the training data (its labels: "
                + "[ham, spam])"), data.skipped());
        assertEquals(1, data.train().packing().sequences().size(), "three short examples share one sequence");
        assertEquals(1, data.eval().size());
    }
}
