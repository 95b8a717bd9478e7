package dev.tailor.train.optim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Argument and JSON field checks shared by the {@link LrSchedule}s. */
final class ScheduleJson {
    static final ObjectMapper JSON = new ObjectMapper();

    private ScheduleJson() {
    }

    static void steps(int warmup, int total) {
        if (warmup < 0 || total < 0 || warmup > total) {
            throw new IllegalArgumentException("schedule: need 0 <= warmup_steps <= training_steps, got warmup "
                    + warmup + ", training " + total);
        }
    }

    private static JsonNode field(JsonNode json, String key) {
        JsonNode n = json == null ? null : json.get(key);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException("schedule: missing field \"" + key + "\"");
        }
        return n;
    }

    static String text(JsonNode json, String key) {
        JsonNode n = field(json, key);
        if (!n.isTextual()) {
            throw new IllegalArgumentException("schedule: field \"" + key + "\" must be a string");
        }
        return n.asText();
    }

    static double number(JsonNode json, String key) {
        JsonNode n = field(json, key);
        if (!n.isNumber()) {
            throw new IllegalArgumentException("schedule: field \"" + key + "\" must be a number");
        }
        return n.asDouble();
    }

    static int integer(JsonNode json, String key) {
        JsonNode n = field(json, key);
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new IllegalArgumentException("schedule: field \"" + key + "\" must be an integer");
        }
        return n.asInt();
    }
}
