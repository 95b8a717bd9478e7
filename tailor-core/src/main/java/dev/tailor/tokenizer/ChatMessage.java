package dev.tailor.tokenizer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One turn of a conversation as chat templates see it: {@code {"role": ..., "content": ...}} plus any extra
 * fields a template reads, such as {@code tool_calls}, {@code reasoning_content} or {@code name}.
 *
 * @param role    {@code system}, {@code user}, {@code assistant}, {@code tool}, …
 * @param content the text of the turn; may be null (an assistant turn that only calls tools)
 * @param extra   further fields, passed to the template unchanged (JSON-like values: maps, lists, strings,
 *                numbers, booleans, null); never null
 */
public record ChatMessage(String role, String content, Map<String, Object> extra) {

    /** Validates the role and copies {@code extra}. */
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        extra = extra == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra));
        if (extra.containsKey("role") || extra.containsKey("content")) {
            throw new IllegalArgumentException("extra fields of a chat message must not repeat 'role' or 'content'");
        }
    }

    /** A message with only a role and content. */
    public ChatMessage(String role, String content) {
        this(role, content, Map.of());
    }

    /** The message as the template sees it: role, content, then the extra fields. */
    public Map<String, Object> toTemplateValue() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("role", role);
        map.put("content", content);
        map.putAll(extra);
        return map;
    }
}
