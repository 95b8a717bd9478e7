package dev.tailor.serve;

import java.time.Duration;

/**
 * A request the server refuses, answered as an OpenAI-style error body
 * {@code {"error": {"message", "type", "param", "code"}}} with {@link #status()}.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String code;
    private final String param;
    private final int retryAfterSeconds;

    /**
     * @param status the HTTP status
     * @param type   OpenAI's error type ({@code invalid_request_error}, {@code server_error} …)
     * @param code   a short machine-readable code, or null
     * @param param  the request field at fault, or null
     */
    public ApiException(int status, String type, String code, String param, String message) {
        this(status, type, code, param, message, 0);
    }

    private ApiException(int status, String type, String code, String param, String message, int retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400: the request is malformed or a field is wrong ({@code param} names it, or is null). */
    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", "invalid_request", param, message);
    }

    /** 401: the request has no API key, or one the server does not know. */
    public static ApiException unauthorized(String message) {
        return new ApiException(401, "authentication_error", "invalid_api_key", null, message);
    }

    /** 403: the caller's key may not do this ({@code param} names the field at fault, or is null). */
    public static ApiException forbidden(String param, String message) {
        return new ApiException(403, "permission_error", "forbidden", param, message);
    }

    /** 409: the request expected a state ({@code param} names the field, or is null) that is not the current one. */
    public static ApiException conflict(String param, String message) {
        return new ApiException(409, "invalid_request_error", "conflict", param, message);
    }

    /** 404: the {@code model} field names neither the base nor a loaded adapter. */
    public static ApiException modelNotFound(String model, String detail) {
        return new ApiException(404, "invalid_request_error", "model_not_found", "model",
                "The model '" + model + "' does not exist: " + detail);
    }

    /** 500: a generation failed with {@code cause}; the server keeps serving. */
    public static ApiException internal(Throwable cause) {
        return internal("generation", cause);
    }

    /** 500: {@code what} (a generation, a request) failed with {@code cause}; the server keeps serving. */
    public static ApiException internal(String what, Throwable cause) {
        return new ApiException(500, "server_error", "internal_error", null, what + " failed: "
                + (cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName()));
    }

    /** 429: {@code waiting} requests already wait for their turn, the most the server queues. */
    public static ApiException queueFull(int waiting, int retryAfterSeconds) {
        return new ApiException(429, "rate_limit_error", "queue_full", null, waiting + " requests already wait "
                + "for a generation, the most this server queues; retry after " + retryAfterSeconds + " s",
                retryAfterSeconds);
    }

    /** 504: the request ran past the server's request timeout ({@code what} says where it was). */
    public static ApiException timedOut(String what, Duration timeout) {
        return new ApiException(504, "server_error", "request_timeout", null, what + " past the server's request "
                + "timeout of " + timeout.toNanos() / 1e9 + " s");
    }

    /** 413: the request body is {@code size} (a phrase: "2048 bytes"), more than the {@code max} bytes accepted. */
    public static ApiException tooLarge(String size, long max) {
        return new ApiException(413, "invalid_request_error", "request_too_large", null, "the request body is "
                + size + "; this server accepts at most " + max + " bytes");
    }

    /** The same refusal, naming the field {@code param} (or none when null) and saying {@code message}. */
    public ApiException with(String param, String message) {
        return new ApiException(status, type, code, param, message, retryAfterSeconds);
    }

    /** The request field at fault, or null. */
    public String param() {
        return param;
    }

    /** The seconds to answer in a {@code Retry-After} header, or 0 for none. */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** The error body. */
    public ErrorBody body() {
        return new ErrorBody(new ErrorBody.Detail(getMessage(), type, param, code));
    }
}
