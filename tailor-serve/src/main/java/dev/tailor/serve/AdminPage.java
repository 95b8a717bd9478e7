package dev.tailor.serve;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The admin page, {@code GET /admin}: one static page (HTML, vanilla JavaScript and CSS, from this package's
 * {@code admin/} resources, nothing fetched from elsewhere) that lists the registered adapters, their versions,
 * aliases, traffic split and evaluations, and rolls back and splits traffic through the JSON API with
 * {@code fetch}, sending the {@code expected_version} it displayed. The page holds no data, so it is served without
 * a key; the API calls it makes carry the admin key the user types in (kept in the tab's {@code sessionStorage}).
 */
final class AdminPage implements HttpService {
    /** Where the page is served; its assets are under {@code PATH + "/"}. */
    static final String PATH = "/admin";
    private static final String RESOURCES = "admin/";
    /** Only this server's own scripts, styles and API; never framed. */
    private static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; "
            + "style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
            + "frame-ancestors 'none'";

    /** A file of the page: its bytes and its media type. */
    private record Asset(byte[] bytes, String contentType) {
    }

    private final Asset page;
    private final Map<String, Asset> assets;

    /** Reads the page's files from the classpath. */
    AdminPage() {
        page = read("index.html", "text/html; charset=utf-8");
        assets = Map.of("admin.js", read("admin.js", "text/javascript; charset=utf-8"),
                "admin.css", read("admin.css", "text/css; charset=utf-8"));
    }

    /** {@code GET /admin} (and {@code /admin/}) and its assets, {@code GET /admin/{asset}}. */
    @Override
    public void routing(HttpRules rules) {
        rules.get(PATH, (req, res) -> send(res, page))
                .get(PATH + "/", (req, res) -> send(res, page))
                .get(PATH + "/{asset}", this::asset);
    }

    /** Whether {@code path} is the page or one of its assets, which are served without a key. */
    static boolean serves(String path) {
        return path.equals(PATH) || path.startsWith(PATH + "/");
    }

    private void asset(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("asset");
        Asset asset = assets.get(name);
        if (asset == null) {
            res.status(Status.NOT_FOUND_404).header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                    .send("no admin asset '" + name + "' (there are " + String.join(", ", assets.keySet()) + ")");
            return;
        }
        send(res, asset);
    }

    private void send(ServerResponse res, Asset asset) {
        res.header(HeaderNames.CONTENT_TYPE, asset.contentType())
                .header(HeaderNames.CACHE_CONTROL, "no-store")
                .header(HeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff")
                .header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                .header("Referrer-Policy", "no-referrer")
                .send(asset.bytes());
    }

    private static Asset read(String name, String contentType) {
        try (InputStream in = AdminPage.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("the admin page's resource " + RESOURCES + name
                        + " is missing from the classpath (package dev.tailor.serve)");
            }
            return new Asset(in.readAllBytes(), contentType);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the admin page's resource " + RESOURCES + name, e);
        }
    }
}
