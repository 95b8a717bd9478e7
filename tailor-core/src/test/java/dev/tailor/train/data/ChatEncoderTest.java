package dev.tailor.train.data;

import dev.tailor.Shared;
import dev.tailor.tokenizer.ChatMessage;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.tailor.model.CausalLmLoss.IGNORE_INDEX;
import static dev.tailor.train.data.ExampleEncoderTest.line;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chat examples on the Llama 3 and Qwen 3 templates: exactly the assistant turns and their end token are labelled. */
class ChatEncoderTest {
    private static final String CONVERSATION = "{\"messages\": ["
            + "{\"role\": \"system\", \"content\": \"You are kind.\"},"
            + "{\"role\": \"user\", \"content\": \"Hi\"},"
            + "{\"role\": \"assistant\", \"content\": \"Hello there\"},"
            + "{\"role\": \"user\", \"content\": \"Bye\"},"
            + "{\"role\": \"assistant\", \"content\": \"Bye now!\"}]}";

    private record Loaded(Tokenizer tokenizer, ChatTemplate template, ExampleEncoder encoder) {
    }

    private static Loaded load(String name) {
        Path dir = Shared.require("tokenizers/" + name);
        Tokenizer tokenizer = Tokenizers.load(dir);
        ChatTemplate template = ChatTemplate.load(dir);
        return new Loaded(tokenizer, template, new ExampleEncoder(tokenizer, template, DatasetFormat.CHAT));
    }

    @Test
    void llama3LabelsAssistantContentAndEotOnly() throws Exception {
        Loaded m = load("llama3");
        Example e = m.encoder().encode(line(3, CONVERSATION));
        assertEquals(List.of("Hello there<|eot_id|>", "Bye now!<|eot_id|>"), labelledRuns(m.tokenizer(), e));
        assertEquals(128000, e.inputIds()[0], "the template's BOS, once");
        assertEquals(1, Arrays.stream(e.inputIds()).filter(id -> id == 128000).count());
        assertWholeRendering(m, e, CONVERSATION);
        // this template always ends with an assistant header: it carries no loss
        int last = e.length() - 1;
        assertEquals(271, e.inputIds()[last], "\\n\\n after <|end_header_id|>");
        assertEquals(IGNORE_INDEX, e.labels()[last]);
        assertEquals("data.jsonl:3", e.source());
    }

    @Test
    void qwen3LabelsAssistantTurnsWithTheirThinkBlockAndImEnd() throws Exception {
        Loaded m = load("qwen3");
        Example e = m.encoder().encode(line(1, CONVERSATION));
        // Qwen 3 writes an empty think block into the last turn (after the last user query) only
        assertEquals(List.of("Hello there<|im_end|>", "<think>\n\n</think>\n\nBye now!<|im_end|>"),
                labelledRuns(m.tokenizer(), e));
        assertWholeRendering(m, e, CONVERSATION);
        assertEquals(198, e.inputIds()[e.length() - 1], "the newline after the last <|im_end|>");
        assertEquals(IGNORE_INDEX, e.labels()[e.length() - 1]);
    }

    @Test
    void singleTurnLabelsOnlyTheReply() throws Exception {
        Loaded m = load("qwen3");
        Example e = m.encoder().encode(line(1, "{\"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"},"
                + "{\"role\": \"assistant\", \"content\": \"4\"}]}"));
        assertEquals(List.of("<think>\n\n</think>\n\n4<|im_end|>"), labelledRuns(m.tokenizer(), e));
        // <|im_start|> user \n 2 + 2 ? <|im_end|> \n <|im_start|> assistant \n : 12 prompt tokens (digits split)
        assertEquals(12, firstLabelled(e));
        assertEquals(151644, e.inputIds()[0]);
    }

    @Test
    void badConversationsNameFileLineAndField() {
        Loaded m = load("llama3");
        assertError(m, "data.jsonl:7: field \"messages\" is empty", "{\"messages\": []}");
        assertError(m, "data.jsonl:7: messages[1]: missing field \"role\"",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"content\": \"b\"}]}");
        assertError(m, "data.jsonl:7: messages[0]: missing field \"content\"", "{\"messages\": [{\"role\": \"user\"}]}");
        assertError(m, "data.jsonl:7: messages[0]: field \"content\" must be a string, got number",
                "{\"messages\": [{\"role\": \"user\", \"content\": 3}]}");
        assertError(m, "data.jsonl:7: field \"messages\" must be a list", "{\"messages\": \"hi\"}");
        assertError(m, "data.jsonl:7: field \"messages\" has no assistant turn",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}");
    }

    private static void assertError(Loaded m, String expectedStart, String json) {
        DataFormatException e = assertThrows(DataFormatException.class, () -> m.encoder().encode(line(7, json)));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
    }

    /** The ids decode to the template's rendering and match encoding it whole. */
    private static void assertWholeRendering(Loaded m, Example e, String json) throws Exception {
        List<ChatMessage> messages = new ArrayList<>();
        for (var node : line(1, json).json().get("messages")) {
            messages.add(new ChatMessage(node.get("role").asText(), node.get("content").asText()));
        }
        String rendered = m.template().render(messages, false, Map.of());
        assertEquals(rendered, m.tokenizer().decode(e.inputIds(), false));
        assertArrayEquals(m.tokenizer().encode(rendered, false, true), e.inputIds());
    }

    /** The decoded runs of consecutive labelled tokens. */
    static List<String> labelledRuns(Tokenizer tokenizer, Example e) {
        List<String> runs = new ArrayList<>();
        int t = 0;
        while (t < e.length()) {
            if (e.labels()[t] == IGNORE_INDEX) {
                t++;
                continue;
            }
            int from = t;
            while (t < e.length() && e.labels()[t] != IGNORE_INDEX) {
                t++;
            }
            runs.add(tokenizer.decode(Arrays.copyOfRange(e.inputIds(), from, t), false));
        }
        return runs;
    }

    private static int firstLabelled(Example e) {
        for (int t = 0; t < e.length(); t++) {
            if (e.labels()[t] != IGNORE_INDEX) {
                return t;
            }
        }
        return -1;
    }
}
