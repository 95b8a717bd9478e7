package dev.tailor.hub;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * HTTP to the Hub: adds the bearer token, follows redirects itself (up to 10) so that the token is sent only to
 * the Hub's own host and never to a CDN it redirects to, as {@code requests} does for huggingface_hub, and turns
 * network failures into {@link HubException}s that say which endpoint could not be reached.
 */
final class HubHttp implements AutoCloseable {
    private static final int MAX_REDIRECTS = 10;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(60);
    private static final String USER_AGENT = "tailor/0.1; java/" + Runtime.version().feature();

    private final HttpClient client = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(CONNECT_TIMEOUT).build();
    private final URI endpoint;
    private final String token;

    HubHttp(URI endpoint, String token) {
        this.endpoint = endpoint;
        this.token = token;
    }

    URI endpoint() {
        return endpoint;
    }

    boolean hasToken() {
        return token != null;
    }

    /** {@code endpoint/path}, where each segment of {@code path} is percent-encoded. */
    URI url(String... segments) {
        StringBuilder sb = new StringBuilder(endpoint.toString());
        for (String s : segments) {
            sb.append('/').append(URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return URI.create(sb.toString());
    }

    /**
     * Sends a request and follows redirects: all of them, or only relative ones (same host) when
     * {@code relativeOnly} — a HEAD for file metadata must stop at the Hub's redirect, which carries the
     * {@code X-Linked-*} headers.
     */
    <T> HttpResponse<T> send(String method, URI uri, Map<String, String> headers, boolean relativeOnly,
                             HttpResponse.BodyHandler<T> body) {
        URI current = uri;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(current).timeout(RESPONSE_TIMEOUT)
                    .method(method, HttpRequest.BodyPublishers.noBody()).header("User-Agent", USER_AGENT);
            headers.forEach(b::header);
            if (token != null && sameOrigin(current, endpoint)) {
                b.header("Authorization", "Bearer " + token);
            }
            HttpResponse<T> response = exchange(b.build(), body);
            String location = response.headers().firstValue("Location").orElse(null);
            if (!isRedirect(response.statusCode()) || location == null) {
                return response;
            }
            URI next = current.resolve(location);
            if (relativeOnly && !sameOrigin(next, current)) {
                return response;
            }
            discard(response);
            if (hop == MAX_REDIRECTS) {
                throw new HubException("too many redirects from " + uri + " (last to " + next + ")");
            }
            current = next;
        }
    }

    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> body) {
        try {
            return client.send(request, body);
        } catch (IOException e) {
            throw new HubException("cannot reach " + endpoint + " (" + request.method() + " " + request.uri() + "): "
                    + describe(e) + "; check the network connection, or HF_ENDPOINT if you use a mirror", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while talking to " + endpoint, e);
        }
    }

    /** The exception's class and message, since many network exceptions carry no message of their own. */
    static String describe(Throwable e) {
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getHost(), b.getHost())
                && a.getPort() == b.getPort();
    }

    /** Closes a response body we do not read. */
    static void discard(HttpResponse<?> response) {
        if (response.body() instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                // the body is abandoned either way
                return;
            }
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
