package dev.tailor.serve;

/**
 * A request the server refuses, answered as an OpenAI-style error body
 * {@code {"error": {"message", "type", "param", "code"}}} with {@link #status()}.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String code;
    private final String param;

    /**
     * @param status the HTTP status
     * @param type   OpenAI's error type ({@code invalid_request_error}, {@code server_error} …)
     * @param code   a short machine-readable code, or null
     * @param param  the request field at fault, or null
     */
    public ApiException(int status, String type, String code, String param, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    /** 400: the request is malformed or a field is wrong ({@code param} names it, or is null). */
    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", "invalid_request", param, message);
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

    /** 500: generation failed with {@code cause}; the server keeps serving. */
    public static ApiException internal(Throwable cause) {
        return new ApiException(500, "server_error", "internal_error", null, "generation failed: "
                + (cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName()));
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
