package dev.tailor.serve;

/** OpenAI's error body: {@code {"error": {"message", "type", "param", "code"}}}. */
public record ErrorBody(Detail error) {

    /** What went wrong, of which kind, in which request field (or null), with a short code (or null). */
    public record Detail(String message, String type, String param, String code) {
    }
}
