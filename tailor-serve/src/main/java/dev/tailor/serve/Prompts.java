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
     * A completion's {@code prompt}: a string, or a list of one string, encoded with the tokenizer's specials; or
     * token ids as they are, a list of integers or a list of one such list (ids outside the vocabulary are refused
     * when the request is submitted).
     */
    static int[] completion(RequestBody body, PretrainedModel model) {
        int[] ids = tokenIds(body.node("prompt"));
        if (ids != null) {
            return ids;
        }
        List<String> prompt = body.strings("prompt");
        if (prompt.size() != 1) {
            throw ApiException.badRequest("prompt", prompt.isEmpty() ? "'prompt' is required"
                    : "'prompt' must be one string (one completion per request), got " + prompt.size());
        }
        if (prompt.getFirst().isEmpty()) {
            throw ApiException.badRequest("prompt", "'prompt' is empty");
        }
        return model.tokenizer().encode(prompt.getFirst(), true);
    }

    /** The text a completion's prompt stands for: the string, or its token ids decoded (special tokens kept). */
    static String completionText(RequestBody body, int[] ids, PretrainedModel model) {
        return tokenIds(body.node("prompt")) != null ? model.tokenizer().decode(ids, false)
                : body.strings("prompt").getFirst();
    }

    /** The ids of a prompt given as token ids, or null for a prompt of text. */
    private static int[] tokenIds(JsonNode prompt) {
        if (prompt == null || !prompt.isArray() || prompt.isEmpty()) {
            return null;
        }
        JsonNode list = prompt;
        if (prompt.get(0).isArray()) {
            if (prompt.size() != 1) {
                throw ApiException.badRequest("prompt", "'prompt' must be one list of token ids (one completion per "
                        + "request), got " + prompt.size());
            }
            list = prompt.get(0);
        } else if (!prompt.get(0).isIntegralNumber()) {
            return null;
        }
        if (list.isEmpty()) {
            throw ApiException.badRequest("prompt", "'prompt' is empty");
        }
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = list.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                throw RequestBody.wrongType("prompt[" + i + "]", "a token id", id);
            }
            ids[i] = id.intValue();
        }
        return ids;
    }

    /**
     * A chat's {@code messages} rendered by the model's chat template with the generation prompt, encoded without
     * extra specials (the template writes them).
     *
     * @throws ApiException 400 when the model has no chat template, or naming the malformed message
     */
    static int[] chat(RequestBody body, PretrainedModel model, String modelId) {
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
        return model.tokenizer().encode(rendered, false);
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
