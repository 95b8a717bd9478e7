package dev.tailor.train.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;

import static dev.tailor.model.CausalLmLoss.IGNORE_INDEX;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ids and label masks of the non-chat formats on the Llama 2 SentencePiece tokenizer of tiny-llama (BOS 1, EOS 2;
 * ids checked against its {@code tokenizer.json} vocabulary).
 */
class ExampleEncoderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int I = IGNORE_INDEX;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = Tokenizers.load(Shared.require("models/tiny-llama"));
    }

    static JsonLines.Line line(int number, String json) throws Exception {
        return new JsonLines.Line(Path.of("data.jsonl"), number, JSON.readTree(json));
    }

    private static ExampleEncoder encoder(DatasetFormat format) {
        return new ExampleEncoder(tokenizer, null, format);
    }

    @Test
    void textIsBosAndTextAllLabelledWithoutEos() throws Exception {
        Example e = encoder(DatasetFormat.TEXT).encode(line(1, "{\"text\": \"The cat sat\"}"));
        assertArrayEquals(new int[] {1, 450, 6635, 3290}, e.inputIds());
        assertArrayEquals(new int[] {1, 450, 6635, 3290}, e.labels());
        assertEquals("data.jsonl:1", e.source());
    }

    @Test
    void completionMasksThePromptAndLabelsCompletionAndEos() throws Exception {
        Example e = encoder(DatasetFormat.COMPLETION).encode(line(2, "{\"prompt\": \"Hi\", \"completion\": \"yes\"}"));
        assertArrayEquals(new int[] {1, 6324, 4874, 2}, e.inputIds());
        assertArrayEquals(new int[] {I, I, 4874, 2}, e.labels());
        assertEquals(2, e.labelledTokens());
    }

    @Test
    void alpacaUsesTheStanfordPromptWithAndWithoutInput() throws Exception {
        ExampleEncoder enc = encoder(DatasetFormat.ALPACA);
        Example plain = enc.encode(line(1, "{\"instruction\": \"Say hi\", \"input\": \"\", \"output\": \"Hello world\"}"));
        String noInput = "Below is an instruction that describes a task. Write a response that appropriately "
                + "completes the request.\n\n### Instruction:\nSay hi\n\n### Response:\n";
        assertMaskedPrompt(plain, noInput, new int[] {15043, 3186, 2});

        Example withInput = enc.encode(line(2, "{\"instruction\": \"Say hi\", \"input\": \"The cat\", "
                + "\"output\": \"Hello world\"}"));
        String inputPrompt = "Below is an instruction that describes a task, paired with an input that provides "
                + "further context. Write a response that appropriately completes the request.\n\n"
                + "### Instruction:\nSay hi\n\n### Input:\nThe cat\n\n### Response:\n";
        assertMaskedPrompt(withInput, inputPrompt, new int[] {15043, 3186, 2});

        Example absentInput = enc.encode(line(3, "{\"instruction\": \"Say hi\", \"output\": \"Hello world\"}"));
        assertArrayEquals(plain.inputIds(), absentInput.inputIds());
    }

    @Test
    void classificationPromptsTextThenLabelAndTrainsTheLabelWithEos() throws Exception {
        Example e = encoder(DatasetFormat.CLASSIFICATION).encode(line(1, "{\"text\": \"Hello world\", "
                + "\"label\": \"ham\"}"));
        assertMaskedPrompt(e, "Hello world\nLabel: ", new int[] {16366, 2});
        assertArrayEquals(new int[] {1, 15043, 3186, 13}, Arrays.copyOf(e.inputIds(), 4));
    }

    /** The prompt part is unlabelled and decodes to {@code prompt}; the rest is labelled and equals {@code answer}. */
    private static void assertMaskedPrompt(Example e, String prompt, int[] answer) {
        int promptLength = e.length() - answer.length;
        int[] promptIds = Arrays.copyOf(e.inputIds(), promptLength);
        assertEquals(1, promptIds[0], "BOS first");
        assertEquals(prompt, tokenizer.decode(promptIds, true));
        assertArrayEquals(tokenizer.encode(prompt, true), promptIds);
        int[] expectedLabels = new int[e.length()];
        Arrays.fill(expectedLabels, I);
        System.arraycopy(answer, 0, expectedLabels, promptLength, answer.length);
        assertArrayEquals(expectedLabels, e.labels());
        assertArrayEquals(answer, Arrays.copyOfRange(e.inputIds(), promptLength, e.length()));
    }

    @Test
    void emptyAnswersAndWrongTypesNameFileLineAndField() throws Exception {
        assertError("data.jsonl:4: field \"completion\" is empty", DatasetFormat.COMPLETION,
                line(4, "{\"prompt\": \"a\", \"completion\": \"\"}"));
        assertError("data.jsonl:5: field \"output\" is empty", DatasetFormat.ALPACA,
                line(5, "{\"instruction\": \"a\", \"output\": \"\"}"));
        assertError("data.jsonl:6: missing field \"prompt\"", DatasetFormat.COMPLETION,
                line(6, "{\"completion\": \"a\"}"));
        assertError("data.jsonl:7: field \"text\" must be a string, got number", DatasetFormat.TEXT,
                line(7, "{\"text\": 42}"));
        assertError("data.jsonl:8: field \"input\" must be a string, got array", DatasetFormat.ALPACA,
                line(8, "{\"instruction\": \"a\", \"input\": [], \"output\": \"b\"}"));
        assertError("data.jsonl:9: field \"label\" is empty", DatasetFormat.CLASSIFICATION,
                line(9, "{\"text\": \"a\", \"label\": \"\"}"));
    }

    private static void assertError(String expectedStart, DatasetFormat format, JsonLines.Line line) {
        DataFormatException e = assertThrows(DataFormatException.class, () -> encoder(format).encode(line));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
    }

    @Test
    void chatNeedsATemplate() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ExampleEncoder(tokenizer, null, DatasetFormat.CHAT));
        assertTrue(e.getMessage().contains("chat template"), e.getMessage());
    }

    @Test
    void detectionFollowsTheDocumentedRule() throws Exception {
        assertEquals(DatasetFormat.TEXT, DatasetFormat.detect(line(1, "{\"text\": \"a\", \"year\": 1790}")));
        assertEquals(DatasetFormat.CLASSIFICATION, DatasetFormat.detect(line(1, "{\"text\": \"a\", \"label\": \"b\"}")));
        assertEquals(DatasetFormat.COMPLETION, DatasetFormat.detect(line(1, "{\"prompt\": \"a\", \"completion\": \"b\"}")));
        assertEquals(DatasetFormat.ALPACA, DatasetFormat.detect(line(1, "{\"instruction\": \"a\", \"output\": \"b\"}")));
        assertEquals(DatasetFormat.CHAT, DatasetFormat.detect(line(1, "{\"messages\": [], \"text\": \"a\"}")));
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> DatasetFormat.detect(line(12, "{\"prompt\": \"a\"}")));
        assertTrue(e.getMessage().startsWith("data.jsonl:12: cannot tell the dataset format from fields [prompt]"),
                e.getMessage());
        assertEquals(DatasetFormat.ALPACA, DatasetFormat.parse("Alpaca"));
        assertThrows(IllegalArgumentException.class, () -> DatasetFormat.parse("sharegpt"));
    }
}
