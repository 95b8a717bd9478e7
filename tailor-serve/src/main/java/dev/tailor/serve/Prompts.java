package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.model.PretrainedModel;
import dev.tailor.tokenizer.ChatMessage;
import dev.tailor.tokenizer.ChatTemplate;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Turns a request's {@code prompt} or {@code messages} into token ids, as {@code tailor generate} does. */
final class Prompts {
    private Prompts() {
    }

    /**
     * One prompt to complete: its token ids and the text they stand for (what {@code echo} repeats).
     *
     * @param ids  the token ids, at least one
     * @param text the prompt's text: as sent, or its token ids decoded (special tokens kept)
     */
    record Prompt(int[] ids, String text) {
    }

    /**
     * A completion's {@code prompt}, as OpenAI takes it: a string, a list of strings, a list of token ids or a list of
     * such lists, each a prompt of its own. Text is encoded with the tokenizer's specials; token ids are run as they
     * are, once checked against the vocabulary.
     *
     * @throws ApiException 400 for a missing, empty or malformed prompt, or more than {@code most} prompts
     */
    static List<Prompt> completions(RequestBody body, PretrainedModel model, int most) {
        JsonNode node = body.node("prompt");
        if (node == null || node.isNull()) {
            throw ApiException.badRequest("prompt", "'prompt' is required");
        }
        List<Prompt> prompts = new ArrayList<>();
        if (node.isArray() && !node.isEmpty() && !node.get(0).isTextual()) {
            if (node.get(0).isArray()) {
                for (int i = 0; i < node.size(); i++) {
                    prompts.add(tokens(node.get(i), "prompt[" + i + "]", model));
                }
            } else {
                prompts.add(tokens(node, "prompt", model));
            }
        } else {
            for (String text : body.strings("prompt")) {
                if (text.isEmpty()) {
                    throw ApiException.badRequest("prompt", "'prompt' is empty");
                }
                prompts.add(new Prompt(model.tokenizer().encode(text, true), text));
            }
        }
        if (prompts.isEmpty()) {
            throw ApiException.badRequest("prompt", "'prompt' is empty");
        }
        if (prompts.size() > most) {
            throw ApiException.badRequest("prompt", "at most " + most + " prompts a request, got " + prompts.size());
        }
        return prompts;
    }

    /** One prompt given as a list of token ids. */
    private static Prompt tokens(JsonNode list, String where, PretrainedModel model) {
        if (list.isArray() && list.isEmpty()) {
            throw ApiException.badRequest("prompt", "'" + where + "' is empty");
        }
        int[] ids = RequestBody.tokenIds(list, "prompt", where, model.model().config().vocabSize());
        return new Prompt(ids, model.tokenizer().decode(ids, false));
    }

    /**
     * A chat's {@code messages} rendered by the model's chat template with the generation prompt, encoded without
     * extra specials (the template writes them).
     *
     * @throws ApiException 400 when the model has no chat template, or naming the malformed message
     */
    static Prompt chat(RequestBody body, PretrainedModel model, String modelId) {
        List<ChatMessage> messages = messages(body.node("messages"));
        ChatTemplate template = model.chatTemplateIfAny();
        if (template == null) {
            throw ApiException.badRequest("model", "the model '" + modelId + "' has no chat template; use "
                    + "/v1/completions");
        }
        String rendered;
        try {
            rendered = template.render(messages, true, Map.of());
        } catch (RuntimeException e) {
            throw ApiException.badRequest("messages", "the chat template cannot render these messages: "
                    + e.getMessage());
        }
        return new Prompt(model.tokenizer().encode(rendered, false), rendered);
    }

    private static List<ChatMessage> messages(JsonNode node) {
        if (node == null) {
            throw ApiException.badRequest("messages", "'messages' is required");
        }
        if (!node.isArray() || node.isEmpty()) {
            throw RequestBody.wrongType("messages", "a non-empty list of messages", node);
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject() || !m.path("role").isTextual()) {
                throw RequestBody.wrongType(where, "an object with a string 'role'", m);
            }
            messages.add(new ChatMessage(m.get("role").asText(), content(m.get("content"), where + ".content")));
        }
        return messages;
    }

    /** A string, or a list of {@code {"type": "text", "text": …}} parts joined. */
    private static String content(JsonNode node, String where) {
        if (node != null && node.isTextual()) {
            return node.asText();
        }
        if (node == null || !node.isArray()) {
            throw ApiException.badRequest(where, "'" + where + "' must be a string or a list of text parts");
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : node) {
            if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                throw RequestBody.wrongType(where, "text parts ({\"type\": \"text\", \"text\": …}); only text is "
                        + "served", part);
            }
            text.append(part.get("text").asText());
        }
        return text.toString();
    }
}
