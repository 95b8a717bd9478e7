package dev.tailor.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.tokenizer.ChatMessage;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Encodes a {@code messages} conversation with the model's chat template, with the loss on assistant turns only.
 *
 * <p>The whole conversation is rendered once ({@code add_generation_prompt=false}); that text is what the model
 * sees. Each assistant turn i starts where the rendering of {@code messages[:i]} with
 * {@code add_generation_prompt=true} ends (that rendering must be a prefix of the whole: the generation prompt
 * is exactly the header the model will be given at inference). The text is cut at those starts and each piece is
 * encoded on its own ({@code addSpecial=false} as Hugging Face's {@code apply_chat_template} does, since
 * templates write their own BOS; {@code parseSpecial=true} so {@code <|eot_id|>} is one token), so every
 * assistant turn starts on a token boundary. In an assistant piece the labels run from its first token through
 * the first special token (the template's end-of-turn marker: {@code <|eot_id|>}, {@code <|im_end|>},
 * {@code </s>}, …), which teaches the model to stop; what follows (a newline, the next turn's header, or the
 * generation header some templates always append) carries no loss. If a template ends turns with no special
 * token, the turn ends where the rendering of {@code messages[:i+1]} ends. Whatever the template writes at the
 * start of a turn beyond the generation prompt (Qwen 3's empty {@code <think>} block on the last turn) is part
 * of the assistant's text and is labelled. No extra EOS is appended.
 */
final class ChatEncoder {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final Map<Integer, Boolean> special = new ConcurrentHashMap<>();

    ChatEncoder(Tokenizer tokenizer, ChatTemplate template) {
        this.tokenizer = tokenizer;
        this.template = template;
    }

    /** Encodes the {@code messages} of one line. */
    Example encode(JsonLines.Line line) {
        String where = line.file() + ":" + line.number();
        List<ChatMessage> messages = messages(line, where);
        String whole = render(messages, false, where);
        List<Integer> cuts = new ArrayList<>();
        List<Integer> turns = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            if (!messages.get(i).role().equals("assistant")) {
                continue;
            }
            String before = render(messages.subList(0, i), true, where);
            if (!whole.startsWith(before) || (!cuts.isEmpty() && before.length() < cuts.getLast())) {
                throw new DataFormatException(where + ": messages[" + i + "]: the chat template renders the "
                        + "conversation before this assistant turn (with the generation prompt) differently from "
                        + "the whole conversation, so the turn cannot be located");
            }
            cuts.add(before.length());
            turns.add(i);
        }
        if (cuts.isEmpty()) {
            throw new DataFormatException(where + ": field \"messages\" has no assistant turn, so nothing to train on");
        }
        return assemble(messages, whole, cuts, turns, where);
    }

    /** Encodes {@code whole} cut at the assistant starts {@code cuts} of messages {@code turns}, with labels. */
    private Example assemble(List<ChatMessage> messages, String whole, List<Integer> cuts, List<Integer> turns,
                             String where) {
        IntBuffer ids = new IntBuffer();
        IntBuffer labels = new IntBuffer();
        append(whole.substring(0, cuts.getFirst()), false, ids, labels);
        for (int k = 0; k < cuts.size(); k++) {
            int from = cuts.get(k);
            int to = k + 1 < cuts.size() ? cuts.get(k + 1) : whole.length();
            int[] piece = tokenizer.encode(whole.substring(from, to), false, true);
            int end = firstSpecial(piece);
            if (end >= 0) {
                for (int t = 0; t < piece.length; t++) {
                    ids.add(piece[t]);
                    labels.add(t <= end ? piece[t] : CausalLmLoss.IGNORE_INDEX);
                }
                continue;
            }
            String through = render(messages.subList(0, turns.get(k) + 1), false, where);
            if (!whole.startsWith(through) || through.length() <= from || through.length() > to) {
                throw new DataFormatException(where + ": messages[" + turns.get(k) + "]: the chat template closes "
                        + "assistant turns with no special token and renders this one differently alone, so its "
                        + "end cannot be found");
            }
            append(whole.substring(from, through.length()), true, ids, labels);
            append(whole.substring(through.length(), to), false, ids, labels);
        }
        return new Example(ids.toArray(), labels.toArray(), where);
    }

    private void append(String text, boolean labelled, IntBuffer ids, IntBuffer labels) {
        for (int id : tokenizer.encode(text, false, true)) {
            ids.add(id);
            labels.add(labelled ? id : CausalLmLoss.IGNORE_INDEX);
        }
    }

    /** Index of the first special token (decoded to nothing when specials are skipped), or -1. */
    private int firstSpecial(int[] ids) {
        for (int t = 0; t < ids.length; t++) {
            int id = ids[t];
            if (special.computeIfAbsent(id, k -> tokenizer.decode(new int[] {k}, true).isEmpty()
                    && !tokenizer.decode(new int[] {k}, false).isEmpty())) {
                return t;
            }
        }
        return -1;
    }

    private String render(List<ChatMessage> messages, boolean generationPrompt, String where) {
        try {
            return template.render(messages, generationPrompt, Map.of());
        } catch (ChatTemplateException e) {
            throw new DataFormatException(where + ": the chat template rejects the conversation: " + e.getMessage());
        }
    }

    /** The conversation, checked: a non-empty list of objects with string {@code role} and {@code content}. */
    private static List<ChatMessage> messages(JsonLines.Line line, String where) {
        JsonNode list = line.json().get("messages");
        if (list == null || list.isNull()) {
            throw new DataFormatException(where + ": missing field \"messages\"");
        }
        if (!list.isArray()) {
            throw new DataFormatException(where + ": field \"messages\" must be a list of {role, content}, got "
                    + list.getNodeType().name().toLowerCase());
        }
        if (list.isEmpty()) {
            throw new DataFormatException(where + ": field \"messages\" is empty");
        }
        List<ChatMessage> messages = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            if (!m.isObject()) {
                throw new DataFormatException(where + ": messages[" + i + "] must be an object {role, content}");
            }
            Map<String, Object> extra = new LinkedHashMap<>();
            m.properties().forEach(e -> {
                if (!e.getKey().equals("role") && !e.getKey().equals("content")) {
                    extra.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
                }
            });
            messages.add(new ChatMessage(field(m, "role", i, where), field(m, "content", i, where), extra));
        }
        return messages;
    }

    private static String field(JsonNode message, String key, int index, String where) {
        JsonNode v = message.get(key);
        if (v == null || v.isNull()) {
            throw new DataFormatException(where + ": messages[" + index + "]: missing field \"" + key + "\"");
        }
        if (!v.isTextual()) {
            throw new DataFormatException(where + ": messages[" + index + "]: field \"" + key
                    + "\" must be a string, got " + v.getNodeType().name().toLowerCase());
        }
        return v.asText();
    }

    /** A growable int array. */
    private static final class IntBuffer {
        private int[] data = new int[256];
        private int size;

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
