package dev.tailor.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A request's JSON object with typed field reads; each read refuses (400) a field of the wrong type, naming the field
 * and what was expected. A field given as {@code null} counts as absent, as in OpenAI's API.
 */
public final class RequestBody {
    private final JsonNode root;

    private RequestBody(JsonNode root) {
        this.root = root;
    }

    /** Parses {@code bytes} as a JSON object, or refuses it (400) saying why. */
    public static RequestBody parse(ObjectMapper json, byte[] bytes) {
        JsonNode root;
        try {
            root = json.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(null, "the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest(null, "the body cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw ApiException.badRequest(null, "the body must be a JSON object, got "
                    + (root == null ? "nothing" : root.getNodeType().name().toLowerCase()));
        }
        return new RequestBody(root);
    }

    /** The JSON object {@code root} (a form's fields, typed already). */
    static RequestBody of(ObjectNode root) {
        return new RequestBody(root);
    }

    /** The names of the object's fields, in order. */
    public List<String> fields() {
        List<String> names = new ArrayList<>();
        root.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The field's node, or null when absent or null. */
    public JsonNode node(String name) {
        JsonNode n = root.get(name);
        return n == null || n.isNull() ? null : n;
    }

    /** A required string field. */
    public String requiredString(String name) {
        String s = string(name);
        if (s == null) {
            throw ApiException.badRequest(name, "'" + name + "' is required");
        }
        return s;
    }

    /**
     * A required string field naming a file or directory, as a path.
     *
     * @throws ApiException 400 naming the field when it is absent, not a string, or no path this system can name (a
     *                      NUL character, say)
     */
    public Path requiredPath(String name) {
        String s = requiredString(name);
        try {
            return Path.of(s);
        } catch (InvalidPathException e) {
            throw ApiException.badRequest(name, "'" + name + "' is not a path: " + e.getReason());
        }
    }

    /** A string field, or null. */
    public String string(String name) {
        JsonNode n = node(name);
        if (n == null) {
            return null;
        }
        if (!n.isTextual()) {
            throw wrongType(name, "a string", n);
        }
        return n.asText();
    }

    /** An integer field, or {@code absent}. */
    public Integer integer(String name, Integer absent) {
        JsonNode n = node(name);
        if (n == null) {
            return absent;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw wrongType(name, "an integer", n);
        }
        return n.asInt();
    }

    /** A long field, or {@code absent}. */
    public long longInteger(String name, long absent) {
        JsonNode n = node(name);
        if (n == null) {
            return absent;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw wrongType(name, "an integer", n);
        }
        return n.asLong();
    }

    /** A number field, or {@code absent}. */
    float number(String name, float absent) {
        JsonNode n = node(name);
        if (n == null) {
            return absent;
        }
        if (!n.isNumber()) {
            throw wrongType(name, "a number", n);
        }
        return (float) n.asDouble();
    }

    /** A boolean field, or {@code absent}. */
    public boolean bool(String name, boolean absent) {
        JsonNode n = node(name);
        if (n == null) {
            return absent;
        }
        if (!n.isBoolean()) {
            throw wrongType(name, "true or false", n);
        }
        return n.asBoolean();
    }

    /** A field that is a string or a list of strings, as a list (empty when absent). */
    List<String> strings(String name) {
        JsonNode n = node(name);
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        if (n.isTextual()) {
            out.add(n.asText());
            return out;
        }
        if (!n.isArray()) {
            throw wrongType(name, "a string or a list of strings", n);
        }
        for (JsonNode item : n) {
            if (!item.isTextual()) {
                throw wrongType(name, "a string or a list of strings", n);
            }
            out.add(item.asText());
        }
        return out;
    }

    /**
     * A list of token ids, {@code where} in the request (the field, or an element of it): each an integer in
     * {@code [0, vocab)}.
     *
     * @throws ApiException 400 naming {@code where} (or its element) for a value that is not such a list, and
     *                      {@code field} for an id outside the vocabulary
     */
    static int[] tokenIds(JsonNode list, String field, String where, int vocab) {
        if (!list.isArray()) {
            throw wrongType(where, "a list of token ids", list);
        }
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = list.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                throw wrongType(where + "[" + i + "]", "a token id", id);
            }
            ids[i] = id.intValue();
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw ApiException.badRequest(field, "'" + where + "[" + i + "]' is token id " + ids[i]
                        + ", outside this model's vocabulary [0, " + vocab + ")");
            }
        }
        return ids;
    }

    /** 400: field {@code name} is not {@code expected} but {@code got}. */
    public static ApiException wrongType(String name, String expected, JsonNode got) {
        String shown = got.toString();
        if (shown.length() > 60) {
            shown = shown.substring(0, 60) + "…";
        }
        return ApiException.badRequest(name, "'" + name + "' must be " + expected + ", got " + shown);
    }
}
