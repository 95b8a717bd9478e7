package dev.tailor.train.data;

import dev.tailor.Shared;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading files: format detection, plain text, bad lines failing or skipped and counted, unseen labels. */
class DatasetLoaderTest {
    private static Tokenizer llama2;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        llama2 = Tokenizers.load(Shared.require("models/tiny-llama"));
    }

    private Path write(String name, String... lines) throws IOException {
        return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
    }

    private static DatasetLoader loader(boolean skip) {
        return new DatasetLoader(llama2, null, null, skip);
    }

    private static final String GOOD_1 = "{\"prompt\": \"Hi\", \"completion\": \"yes\"}";
    private static final String GOOD_2 = "{\"prompt\": \"The cat\", \"completion\": \"sat\"}";

    @Test
    void eachBadLineFailsNamingFileLineAndField() throws IOException {
        assertFails("x.jsonl:2: not valid JSON", GOOD_1, "{\"prompt\": \"a\", ");
        assertFails("x.jsonl:3: expected a JSON object", GOOD_1, GOOD_2, "[1, 2]");
        assertFails("x.jsonl:2: missing field \"completion\"", GOOD_1, "{\"prompt\": \"a\"}");
        assertFails("x.jsonl:2: field \"completion\" must be a string, got boolean", GOOD_1,
                "{\"prompt\": \"a\", \"completion\": true}");
        assertFails("x.jsonl:3: field \"completion\" is empty", GOOD_1, "", "{\"prompt\": \"a\", \"completion\": \"\"}");
    }

    private void assertFails(String expectedEnd, String... lines) throws IOException {
        Path file = write("x.jsonl", lines);
        DataFormatException e = assertThrows(DataFormatException.class, () -> loader(false).load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expectedEnd), e.getMessage());
    }

    @Test
    void skippedBadLinesAreCountedAndNamed() throws IOException {
        Path file = write("x.jsonl", "not json", GOOD_1, "{\"prompt\": \"a\"}", GOOD_2,
                "{\"prompt\": \"a\", \"completion\": \"\"}", "{\"prompt\": 1, \"completion\": \"b\"}");
        Dataset d = loader(true).load(file);
        assertEquals(DatasetFormat.COMPLETION, d.format(), "detected past the bad first line");
        assertEquals(2, d.examples().size());
        assertEquals(4, d.skippedLines());
        assertEquals(List.of(file + ":1", file + ":3", file + ":5", file + ":6"),
                d.skipped().stream().map(m -> m.substring(0, m.indexOf(':', file.toString().length() + 1))).toList());
        assertEquals(file + ":2", d.examples().get(0).source());
        assertEquals(file + ":4", d.examples().get(1).source());
    }

    @Test
    void chatLinesAreSkippedAndCountedToo() throws IOException {
        Path tokenizerDir = Shared.require("tokenizers/qwen3");
        Path file = write("chat.jsonl",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}",
                "{\"messages\": []}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\"}]}");
        Dataset d = new DatasetLoader(Tokenizers.load(tokenizerDir), ChatTemplate.load(tokenizerDir), null, true)
                .load(file);
        assertEquals(DatasetFormat.CHAT, d.format());
        assertEquals(1, d.examples().size());
        assertEquals(List.of(file + ":2: field \"messages\" is empty",
                file + ":3: messages[1]: missing field \"content\""), d.skipped());
    }

    @Test
    void anExplicitFormatWinsOverDetection() throws IOException {
        Path file = write("x.jsonl", "{\"text\": \"The cat sat\", \"label\": \"ham\"}");
        assertEquals(DatasetFormat.CLASSIFICATION, loader(false).load(file).format());
        Dataset asText = new DatasetLoader(llama2, null, DatasetFormat.TEXT, false).load(file);
        assertEquals(DatasetFormat.TEXT, asText.format());
        assertEquals(4, asText.examples().getFirst().labelledTokens());
    }

    @Test
    void classificationLabelsUnseenInTrainingAreErrors() throws IOException {
        Path spam = Shared.require("data/spam.jsonl");
        List<String> lines = Files.readAllLines(spam);
        Path train = write("train.jsonl", java.util.stream.Stream.concat(
                lines.stream().filter(l -> l.contains("\"label\": \"ham\"")).limit(25),
                lines.stream().filter(l -> l.contains("\"label\": \"spam\"")).limit(15)).toArray(String[]::new));
        Dataset d = loader(false).load(train);
        assertEquals(DatasetFormat.CLASSIFICATION, d.format());
        assertEquals(Set.of("ham", "spam"), d.labels());
        assertEquals(40, d.examples().size());

        Path test = write("test.jsonl", "{\"text\": \"a\", \"label\": \"spam\"}", "{\"text\": \"b\", \"label\": \"eggs\"}");
        DataFormatException e = assertThrows(DataFormatException.class, () -> loader(false).load(test, d.labels()));
        assertEquals(test + ":2: field \"label\": \"eggs\" never occurs in the training data (its labels: [ham, spam])",
                e.getMessage());
        Dataset skipped = loader(true).load(test, d.labels());
        assertEquals(1, skipped.examples().size());
        assertEquals(1, skipped.skippedLines());
    }

    @Test
    void plainTextIsOneExampleChunkedToTheSequenceLength() {
        Path moby = Shared.require("data/moby-dick.txt");
        Dataset d = loader(false).load(moby);
        assertEquals(DatasetFormat.TEXT, d.format());
        assertEquals(1, d.examples().size());
        Example book = d.examples().getFirst();
        assertEquals(1, book.inputIds()[0], "BOS");
        assertTrue(book.length() > 250_000, "the whole book: " + book.length());
        Dataset chunks = d.chunkedTexts(512);
        assertEquals((book.length() + 511) / 512, chunks.examples().size());
        assertEquals(book.length(), chunks.tokens(), "no token lost");
    }

    @Test
    void noUsableLineIsAnError() throws IOException {
        Path file = write("x.jsonl", "{\"id\": 1}");
        DataFormatException e = assertThrows(DataFormatException.class, () -> loader(true).load(file));
        assertTrue(e.getMessage().startsWith(file + ": no usable lines (1 bad lines skipped"), e.getMessage());
    }
}
