package dev.tailor.bench.fuzz;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Mutations of a valid JSON document into hostile ones: values replaced by other types and extreme numbers, keys
 * dropped, duplicated or added, values wrapped in lists; then, sometimes, the text truncated, followed by trailing
 * bytes or given bytes that are not UTF-8.
 */
public final class HostileJson {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String[] TEXTS = {"", " ", "x", "NaN", "Infinity", "-Infinity", "-1", "0", "1e308", "null",
            "true", "2147483648", "9223372036854775808", "\u0000", "\uD800", "é", "*", ".*", "(", "[", "{{", "%s",
            "../x", "\u2581", "<s>", "Sequence", "ByteLevel", "BPE"};

    private HostileJson() {
    }

    /** A value of any JSON type, weighted towards the ones loaders get wrong: extreme numbers and wrong types. */
    public static JsonNode value(SplittableRandom rnd) {
        return switch (rnd.nextInt(12)) {
            case 0, 1 -> NODES.numberNode(extremeLong(rnd));
            case 2 -> NODES.numberNode(extremeDouble(rnd));
            case 3 -> NODES.numberNode(new BigInteger("18446744073709551617").shiftLeft(rnd.nextInt(64)));
            case 4 -> NODES.numberNode(new BigDecimal("1e" + (300 + rnd.nextInt(100))));
            case 5, 6 -> NODES.textNode(text(rnd));
            case 7 -> NODES.booleanNode(rnd.nextBoolean());
            case 8 -> NODES.nullNode();
            case 9 -> {
                ArrayNode a = NODES.arrayNode();
                int n = rnd.nextInt(4);
                for (int i = 0; i < n; i++) {
                    a.add(rnd.nextInt(3) == 0 ? value(rnd) : NODES.textNode(text(rnd)));
                }
                yield a;
            }
            case 10 -> {
                ObjectNode o = NODES.objectNode();
                int n = rnd.nextInt(3);
                for (int i = 0; i < n; i++) {
                    o.set(text(rnd), rnd.nextInt(3) == 0 ? value(rnd) : NODES.numberNode(extremeLong(rnd)));
                }
                yield o;
            }
            default -> NODES.numberNode(rnd.nextInt(-3, 70));
        };
    }

    /** A whole number at an edge: 0, ±1, powers of two around the int and long limits, or small. */
    public static long extremeLong(SplittableRandom rnd) {
        long[] edges = {0, 1, -1, 2, 3, 4, 7, 64, Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 31, (1L << 31) + 1,
                1L << 30, 1L << 32, 46341, 65536, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 62, -(1L << 31) - 1};
        return edges[rnd.nextInt(edges.length)];
    }

    /** A number with a fraction at an edge: tiny, huge, negative zero, or a plain fraction. */
    public static double extremeDouble(SplittableRandom rnd) {
        double[] edges = {0.5, -0.5, -0.0, 1e308, -1e308, Double.MIN_VALUE, 1e-320, 1.5, 2.5, 1e-9, 1e19, 3.0e9};
        return edges[rnd.nextInt(edges.length)];
    }

    /** A short text from the hostile set, sometimes long or with random characters. */
    public static String text(SplittableRandom rnd) {
        return switch (rnd.nextInt(8)) {
            case 0 -> "a".repeat(rnd.nextInt(1, 5000));
            case 1 -> {
                StringBuilder s = new StringBuilder();
                int n = rnd.nextInt(1, 12);
                for (int i = 0; i < n; i++) {
                    s.appendCodePoint(rnd.nextInt(3) == 0 ? rnd.nextInt(0x110000) : rnd.nextInt(0x20, 0x7f));
                }
                yield s.toString().replace("\uD800", "?");
            }
            default -> TEXTS[rnd.nextInt(TEXTS.length)];
        };
    }

    /**
     * {@code valid} after one to three mutations of its values and keys, as text, then sometimes damaged as bytes.
     * {@code names} are strings the mutations may put where a name is expected (tensor, token or type names).
     */
    public static byte[] mutate(JsonNode valid, SplittableRandom rnd, List<String> names) {
        JsonNode doc = valid.deepCopy();
        int mutations = rnd.nextInt(1, 4);
        String duplicated = null;
        for (int i = 0; i < mutations; i++) {
            List<Slot> slots = new ArrayList<>();
            collect(doc, slots);
            if (slots.isEmpty()) {
                break;
            }
            Slot slot = slots.get(rnd.nextInt(slots.size()));
            switch (rnd.nextInt(7)) {
                case 0 -> slot.remove();
                case 1 -> slot.set(NODES.arrayNode().add(slot.get()));
                case 2 -> slot.set(names.isEmpty() || rnd.nextBoolean() ? NODES.textNode(text(rnd))
                        : NODES.textNode(names.get(rnd.nextInt(names.size()))));
                case 3 -> slot.set(slot.get().isNumber() ? nearby(slot.get(), rnd) : value(rnd));
                case 4 -> {
                    if (doc instanceof ObjectNode o && o.size() > 0) {
                        duplicated = List.copyOf(o.properties()).get(rnd.nextInt(o.size())).getKey();
                    }
                }
                default -> slot.set(value(rnd));
            }
        }
        byte[] text = write(doc, duplicated, rnd);
        return rnd.nextInt(4) == 0 ? damage(text, rnd) : text;
    }

    /** A number near {@code n}: its neighbours, its negation, its double, zero, or an edge. */
    private static JsonNode nearby(JsonNode n, SplittableRandom rnd) {
        long v = n.asLong();
        return switch (rnd.nextInt(6)) {
            case 0 -> NODES.numberNode(v + 1);
            case 1 -> NODES.numberNode(v - 1);
            case 2 -> NODES.numberNode(-v);
            case 3 -> NODES.numberNode(v * 2);
            case 4 -> NODES.numberNode(n.asDouble() + 0.5);
            default -> NODES.numberNode(extremeLong(rnd));
        };
    }

    /** Bytes damaged: truncated, followed by trailing bytes, or with a byte replaced by one that is not UTF-8. */
    public static byte[] damage(byte[] text, SplittableRandom rnd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (rnd.nextInt(4)) {
            case 0 -> out.writeBytes(Arrays.copyOf(text, rnd.nextInt(text.length + 1)));
            case 1 -> {
                out.writeBytes(text);
                String[] tails = {"x", "{}", "\n{\"a\": 1}", "]", "\u0000", " \n\t", "// comment", "NaN"};
                out.writeBytes(tails[rnd.nextInt(tails.length)].getBytes(StandardCharsets.UTF_8));
            }
            case 2 -> {
                byte[] copy = text.clone();
                if (copy.length > 0) {
                    copy[rnd.nextInt(copy.length)] = (byte) (0x80 | rnd.nextInt(0x80));
                }
                out.writeBytes(copy);
            }
            default -> {
                byte[] copy = text.clone();
                if (copy.length > 0) {
                    copy[rnd.nextInt(copy.length)] = (byte) rnd.nextInt(0x20, 0x7f);
                }
                out.writeBytes(copy);
            }
        }
        return out.toByteArray();
    }

    /** The document as text; {@code duplicated}, a key of the root object, is written twice (the second hostile). */
    private static byte[] write(JsonNode doc, String duplicated, SplittableRandom rnd) {
        try {
            String text = JSON.writeValueAsString(doc);
            if (duplicated != null && text.startsWith("{")) {
                text = "{" + JSON.writeValueAsString(duplicated) + ": " + JSON.writeValueAsString(value(rnd)) + ","
                        + text.substring(1);
            }
            return text.getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every value below {@code node}, as a slot that can be read, replaced or removed. */
    private static void collect(JsonNode node, List<Slot> slots) {
        if (node instanceof ObjectNode o) {
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                String key = e.getKey();
                slots.add(new Slot(o, key, -1));
                collect(o.get(key), slots);
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                slots.add(new Slot(a, null, i));
                collect(a.get(i), slots);
            }
        }
    }

    /** A place in a document: a key of an object or an index of a list. */
    private record Slot(JsonNode parent, String key, int index) {
        JsonNode get() {
            return key != null ? parent.get(key) : parent.get(index);
        }

        void set(JsonNode value) {
            if (key != null) {
                ((ObjectNode) parent).set(key, value);
            } else {
                ((ArrayNode) parent).set(index, value);
            }
        }

        void remove() {
            if (key != null) {
                ((ObjectNode) parent).remove(key);
            } else {
                ((ArrayNode) parent).remove(index);
            }
        }
    }
}
