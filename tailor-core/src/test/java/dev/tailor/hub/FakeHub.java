package dev.tailor.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for the Hub: {@code /api/models/{repo}/revision/{rev}} and {@code /{repo}/resolve/{commit}/{file}}
 * on one server, with LFS files redirected to a second server (another origin, like the Hub's CDN) that honours
 * {@code Range}. Knobs let tests require a token, cut a transfer short, or lie about a size.
 */
final class FakeHub implements AutoCloseable {
    static final String REPO = "org/tiny";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    final Map<String, byte[]> files = new LinkedHashMap<>();
    final List<String> lfs = new CopyOnWriteArrayList<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<String> cdnAuthorizations = new CopyOnWriteArrayList<>();
    volatile String requiredToken;
    volatile int cutNextLfsTransferAt = -1;
    volatile long sizeSkew;
    volatile boolean listSizes = true;

    private final HttpServer hub;
    private final HttpServer cdn;

    FakeHub() throws IOException {
        hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hub.createContext("/", this::hub);
        cdn.createContext("/", this::cdn);
        hub.start();
        cdn.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    private String cdnBase() {
        return "http://127.0.0.1:" + cdn.getAddress().getPort();
    }

    private void hub(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        requests.add(ex.getRequestMethod() + " " + path + " " + ex.getRequestHeaders().getFirst("Range"));
        if (requiredToken != null && !("Bearer " + requiredToken).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            ex.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
            send(ex, 401, "{\"error\":\"Invalid credentials\"}");
            return;
        }
        String api = "/api/models/" + REPO + "/revision/";
        String resolve = "/" + REPO + "/resolve/" + COMMIT + "/";
        if (path.startsWith(api)) {
            String rev = path.substring(api.length());
            if (!rev.equals("main") && !rev.equals(COMMIT)) {
                ex.getResponseHeaders().set("X-Error-Code", "RevisionNotFound");
                send(ex, 404, "{\"error\":\"Invalid rev id: " + rev + "\"}");
                return;
            }
            send(ex, 200, listing());
        } else if (path.startsWith(resolve) && files.containsKey(path.substring(resolve.length()))) {
            String name = path.substring(resolve.length());
            byte[] content = files.get(name);
            ex.getResponseHeaders().set("X-Repo-Commit", COMMIT);
            if (lfs.contains(name)) {
                ex.getResponseHeaders().set("X-Linked-Etag", "\"" + sha256(content) + "\"");
                ex.getResponseHeaders().set("X-Linked-Size", Long.toString(content.length));
                ex.getResponseHeaders().set("Location", cdnBase() + "/blob/" + name);
                ex.sendResponseHeaders(302, -1);
                ex.close();
            } else {
                ex.getResponseHeaders().set("ETag", "\"" + gitBlobId(content) + "\"");
                body(ex, content, 0, ex.getRequestMethod().equals("HEAD"));
            }
        } else {
            ex.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
            send(ex, 404, "{\"error\":\"Repository not found\"}");
        }
    }

    private void cdn(HttpExchange ex) throws IOException {
        cdnAuthorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
        String name = ex.getRequestURI().getPath().substring("/blob/".length());
        byte[] content = files.get(name);
        String range = ex.getRequestHeaders().getFirst("Range");
        requests.add("CDN " + ex.getRequestMethod() + " " + name + " " + range);
        long from = 0;
        if (range != null) {
            Matcher m = RANGE.matcher(range);
            if (!m.matches()) {
                send(ex, 400, "bad range");
                return;
            }
            from = Long.parseLong(m.group(1));
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/"
                    + content.length);
        }
        int cut = cutNextLfsTransferAt;
        if (cut >= 0 && range == null) {
            cutNextLfsTransferAt = -1;
            ex.sendResponseHeaders(200, content.length);
            OutputStream out = ex.getResponseBody();
            out.write(content, 0, cut);
            out.flush();
            throw new IOException("connection cut by the test after " + cut + " bytes");
        }
        body(ex, content, from, ex.getRequestMethod().equals("HEAD"));
    }

    private static void body(HttpExchange ex, byte[] content, long from, boolean head) throws IOException {
        int status = from > 0 ? 206 : 200;
        if (head) {
            ex.getResponseHeaders().set("Content-Length", Long.toString(content.length));
            ex.sendResponseHeaders(status, -1);
            ex.close();
            return;
        }
        ex.sendResponseHeaders(status, content.length - from);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(content, (int) from, (int) (content.length - from));
        }
    }

    private String listing() {
        StringBuilder sb = new StringBuilder("{\"id\":\"" + REPO + "\",\"sha\":\"" + COMMIT + "\",\"siblings\":[");
        String sep = "";
        for (var e : files.entrySet()) {
            sb.append(sep).append("{\"rfilename\":\"").append(e.getKey()).append('"');
            long size = e.getValue().length + sizeSkew;
            if (listSizes) {
                sb.append(",\"size\":").append(size).append(",\"blobId\":\"").append(gitBlobId(e.getValue()))
                        .append('"');
                if (lfs.contains(e.getKey())) {
                    sb.append(",\"lfs\":{\"sha256\":\"").append(sha256(e.getValue())).append("\",\"size\":")
                            .append(size).append(",\"pointerSize\":134}");
                }
            }
            sb.append('}');
            sep = ",";
        }
        return sb.append("]}").toString();
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    static String sha256(byte[] content) {
        return digest("SHA-256", content);
    }

    /** The git object id of a blob: sha1 of {@code "blob <size>\0" + content}. */
    static String gitBlobId(byte[] content) {
        byte[] prefix = ("blob " + content.length + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[prefix.length + content.length];
        System.arraycopy(prefix, 0, all, 0, prefix.length);
        System.arraycopy(content, 0, all, prefix.length, content.length);
        return digest("SHA-1", all);
    }

    private static String digest(String algorithm, byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }
}
