package dev.tailor.compare;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.UncheckedIOException;
import java.util.Locale;

/** Numbers as the reports write them: JSON's null for what is not finite, and short human forms. */
final class Reports {
    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Reports() {
    }

    /** Puts {@code value}, or null when it is NaN or infinite (JSON has no such numbers). */
    static void putNumber(ObjectNode n, String field, double value) {
        if (Double.isFinite(value)) {
            n.put(field, value);
        } else {
            n.putNull(field);
        }
    }

    /** The number in {@code field}, NaN when it is null or absent. */
    static double number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || !v.isNumber() ? Double.NaN : v.asDouble();
    }

    /** {@code n} as indented JSON. */
    static byte[] pretty(JsonNode n) {
        try {
            return PRETTY.writeValueAsBytes(n);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bytes in binary units: {@code 512 B}, {@code 15.7 KiB}, {@code 82.3 MiB}. */
    static String bytes(double b) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (Math.abs(b) >= 1024 && u < units.length - 1) {
            b /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%.0f B", b) : String.format(Locale.ROOT, "%.1f %s", b, units[u]);
    }

    /** A count with a metric suffix: {@code 3584}, {@code 4.19 M}, {@code 8.03 B}. */
    static String count(double n) {
        if (Math.abs(n) < 10_000) {
            return String.format(Locale.ROOT, "%.0f", n);
        }
        String[] units = {"K", "M", "B", "T"};
        int u = -1;
        while (Math.abs(n) >= 1000 && u < units.length - 1) {
            n /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.3g %s", n, units[u]);
    }

    /** Seconds as {@code 4.2 s}, {@code 3 min 12 s} or {@code 5 h 05 min}. */
    static String seconds(double s) {
        if (!Double.isFinite(s)) {
            return "-";
        }
        if (s < 60) {
            return String.format(Locale.ROOT, s < 10 ? "%.2f s" : "%.1f s", s);
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%d min %02d s", (long) s / 60, (long) s % 60);
        }
        return String.format(Locale.ROOT, "%d h %02d min", (long) s / 3600, (long) s % 3600 / 60);
    }

    /** A signed percentage, {@code +4.2%}, or {@code -} when not finite. */
    static String percent(double p) {
        return Double.isFinite(p) ? String.format(Locale.ROOT, "%+.1f%%", p) : "-";
    }

    /** {@code v} with {@code digits} decimals, or {@code -} when not finite. */
    static String fixed(double v, int digits) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + digits + "f", v) : "-";
    }
}
