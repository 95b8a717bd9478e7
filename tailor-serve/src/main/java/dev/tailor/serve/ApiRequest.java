package dev.tailor.serve;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

import java.io.IOException;
import java.io.InputStream;
import java.util.OptionalLong;

/** A request to an {@link ApiRoutes} endpoint: its path and query parameters, headers and body. */
public final class ApiRequest {
    /** Reads a body as JSON within the server's limit. */
    interface BodyReader {
        RequestBody read(ServerRequest req) throws IOException;
    }

    private final ServerRequest http;
    private final BodyReader bodies;

    ApiRequest(ServerRequest http, BodyReader bodies) {
        this.http = http;
        this.bodies = bodies;
    }

    /** Who sends it. */
    public Caller caller() {
        return Caller.current();
    }

    /** The path parameter {@code name} (the {@code {name}} of the route's path). */
    public String pathParameter(String name) {
        return http.path().pathParameters().get(name);
    }

    /** The query parameter {@code name}, or null when absent. */
    public String query(String name) {
        return http.query().first(name).orElse(null);
    }

    /** The {@code Content-Type} header, or null. */
    public String contentType() {
        return http.headers().first(HeaderNames.CONTENT_TYPE).orElse(null);
    }

    /** The declared {@code Content-Length}, if any. */
    public OptionalLong contentLength() {
        return http.headers().contentLength();
    }

    /** The body as it arrives, read once (for bodies the endpoint bounds itself, such as file uploads). */
    public InputStream content() {
        return http.content().inputStream();
    }

    /**
     * The body as a JSON object, within the server's {@link ServerOptions#maxBodyBytes()}.
     *
     * @throws ApiException 400 when it is not a JSON object, 413 when it is too large
     */
    public RequestBody body() throws IOException {
        return bodies.read(http);
    }
}
