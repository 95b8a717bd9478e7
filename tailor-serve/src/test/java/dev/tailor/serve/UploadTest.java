package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code PUT /v1/adapters/{name}} with a multipart upload of an adapter archive: tars, zips and gzip'd tars, flat or
 * in one top directory, registered and served like the JSON form, with its fields as form fields; archives made by
 * real tools unpacked; hostile archives (absolute paths, {@code ..}, links, devices, FIFOs, duplicates, too many
 * entries, bombs) refused naming the cause, with nothing registered and nothing left on disk; a tenant's upload its
 * own; a body over the limit 413.
 */
class UploadTest {
    private static final String PROMPT = "Hello";
    private static final int MAX_TOKENS = 8;
    private static final String ADMIN = "admin-secret-key";
    /** The unpacked size an archive may reach under the default body limit of 1 MiB. */
    private static final long UNPACK_LIMIT = AdapterArchive.Limits.forBody(ServerOptions.defaults().maxBodyBytes())
            .maxBytes();

    @TempDir
    Path tmp;

    private static HttpResponse<String> upload(ServerFixture f, String name, String filename, byte[] archive,
                                               Map<String, String> fields, String key) throws Exception {
        return put(f, name, HttpRequest.BodyPublishers.ofByteArray(Archives.form(fields, filename, archive)), key);
    }

    private static HttpResponse<String> upload(ServerFixture f, String name, String filename, byte[] archive)
            throws Exception {
        return upload(f, name, filename, archive, Map.of(), null);
    }

    private static HttpResponse<String> put(ServerFixture f, String name, HttpRequest.BodyPublisher body, String key)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(f.baseUrl() + "/v1/adapters/" + name))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "multipart/form-data; boundary=" + Archives.BOUNDARY)
                .PUT(body);
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return f.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String text(ServerFixture f, String model, String key) throws Exception {
        HttpResponse<String> r = completion(f, model, key);
        assertEquals(200, r.statusCode(), r.body());
        return ServerFixture.json(r.body()).at("/choices/0/text").asText();
    }

    private static HttpResponse<String> completion(ServerFixture f, String model, String key) throws Exception {
        return f.send("POST", "/v1/completions", "{\"model\": \"" + model + "\", \"prompt\": \"" + PROMPT
                + "\", \"max_tokens\": " + MAX_TOKENS + ", \"temperature\": 0}", key);
    }

    /** The engine's greedy text on the fixture's loaded adapter {@code model}. */
    private static String engine(ServerFixture f, String model) {
        return f.greedy(f.server.models().resolve(model), PROMPT, MAX_TOKENS).text();
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
        return ServerFixture.json(r.body()).get("error");
    }

    private static List<String> adapterNames(ServerFixture f, String key) throws Exception {
        HttpResponse<String> r = f.send("GET", "/v1/adapters", null, key);
        assertEquals(200, r.statusCode(), r.body());
        List<String> names = new ArrayList<>();
        ServerFixture.json(r.body()).get("data").forEach(m -> names.add(m.get("name").asText()));
        return names;
    }

    private static long count(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    private static void assertNothingLeft(Path state) throws IOException {
        assertEquals(0, count(state.resolve("store/tmp")), "nothing is left in the store's scratch space");
    }

    @Test
    void tarsZipsAndGzippedTarsFlatOrInOneDirectoryAreRegisteredAndServed() throws Exception {
        Path state = tmp.resolve("state");
        try (ServerFixture f = ServerFixture.start(tmp.resolve("server"), ServerOptions.defaults(), state)) {
            String textA = engine(f, "a");
            String textB = engine(f, "b");
            assertNotEquals(textA, textB, "the two adapters answer differently");
            record Upload(String name, String filename, byte[] archive, String text) {
            }
            for (Upload u : List.of(
                    new Upload("tar-flat", "a.tar", Archives.tar(f.adapterA, null), textA),
                    new Upload("tar-top", "b.tar", Archives.tar(f.adapterB, "sql-v2"), textB),
                    new Upload("zip-flat", "b.zip", Archives.zip(f.adapterB, null), textB),
                    new Upload("zip-top", "a.zip", Archives.zip(f.adapterA, "a"), textA),
                    new Upload("tgz-top", "a.tgz", Archives.gzip(Archives.tar(f.adapterA, "a")), textA))) {
                HttpResponse<String> r = upload(f, u.name(), u.filename(), u.archive());
                assertEquals(200, r.statusCode(), u.filename() + ": " + r.body());
                assertEquals(u.name(), ServerFixture.json(r.body()).get("name").asText());
                assertEquals(1, ServerFixture.json(r.body()).get("version").asInt());
                assertEquals(u.text(), text(f, u.name(), null), u.filename() + " serves its adapter");
            }
            HttpResponse<String> json = f.put("/v1/adapters/from-path", "{\"path\": \"" + f.adapterA + "\"}");
            assertEquals(200, json.statusCode(), json.body());
            String sha = ServerFixture.json(f.get("/v1/adapters/from-path").body()).at("/versions/0/sha256").asText();
            for (String name : List.of("tar-flat", "zip-top", "tgz-top")) {
                assertEquals(sha, ServerFixture.json(f.get("/v1/adapters/" + name).body())
                        .at("/versions/0/sha256").asText(), name + " stores exactly the files of the directory");
            }

            // the JSON form's fields, as form fields
            HttpResponse<String> second = upload(f, "tar-flat", "b.tar", Archives.tar(f.adapterB, null),
                    Map.of("expected_version", "1", "promote", "false"), null);
            assertEquals(200, second.statusCode(), second.body());
            assertEquals(2, ServerFixture.json(second.body()).get("version").asInt());
            assertEquals(textA, text(f, "tar-flat", null), "promote=false leaves prod");
            assertEquals(textB, text(f, "tar-flat@2", null));
            HttpResponse<String> stale = upload(f, "tar-flat", "b.tar", Archives.tar(f.adapterB, null),
                    Map.of("expected_version", "1"), null);
            assertEquals(409, stale.statusCode(), stale.body());

            String listed = f.get("/v1/adapters").body();
            byte[] good = Archives.tar(f.adapterA, null);
            Map<Map<String, String>, String> badFields = new LinkedHashMap<>();
            badFields.put(Map.of("promote", "maybe"), "promote");
            badFields.put(Map.of("expected_version", "one"), "expected_version");
            badFields.put(Map.of("path", f.adapterA.toString()), "path");
            badFields.put(Map.of("promte", "false"), "promte");
            for (var bad : badFields.entrySet()) {
                HttpResponse<String> r = upload(f, "more", "a.tar", good, bad.getKey(), null);
                assertEquals(400, r.statusCode(), r.body());
                assertEquals(bad.getValue(), error(r).get("param").asText(), r.body());
            }
            HttpResponse<String> noFile = upload(f, "more", null, null, Map.of("promote", "true"), null);
            assertEquals(400, noFile.statusCode(), noFile.body());
            assertTrue(error(noFile).get("message").asText().contains("'file' is required"), noFile.body());

            // an archive that unpacks well but holds a bad adapter is refused as a bad path is, naming the archive
            Path otherBase = ServerFixture.saveLora(f.pretrained, tmp.resolve("other-base"), List.of("q_proj"), 3,
                    "sha256:another-base");
            byte[] corrupt = new Archives.Tar()
                    .file("adapter_config.json", Files.readAllBytes(f.adapterA.resolve("adapter_config.json")))
                    .file("adapter_model.safetensors", new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}).bytes();
            for (var bad : Map.of("corrupt.tar", corrupt, "other-base.zip", Archives.zip(otherBase, null))
                    .entrySet()) {
                HttpResponse<String> r = upload(f, "more", bad.getKey(), bad.getValue());
                assertEquals(400, r.statusCode(), r.body());
                String message = error(r).get("message").asText();
                assertTrue(message.contains(bad.getKey()), r.body());
                assertFalse(message.contains(state.toString()), "names the archive, not the server's: " + message);
                assertEquals("file", error(r).get("param").asText());
            }
            assertEquals(listed, f.get("/v1/adapters").body(), "nothing was registered");
            assertNothingLeft(state);
        }
    }

    @Test
    void archivesMadeByRealToolsUnpackToTheirFiles() throws Exception {
        String longPath = "a-directory-whose-name-is-long-enough/"
                + "to-need-more-than-the-hundred-bytes-of-a-tar-name-field/a-file-with-a-long-name-too.txt";
        Map<String, String> expected = new TreeMap<>(Map.of("adapter_config.json", "{\"peft_type\": \"LORA\"}\n",
                "données.txt", "accents\n", longPath, "long\n"));
        for (String name : List.of("gnu-tar.tar.gz", "posix-tar.tar", "python-tarfile.tgz", "git-archive.tar.gz",
                "info-zip.zip")) {
            Path archive = resource(name);
            Path dir = AdapterArchive.unpack(archive, tmp.resolve("unpacked-" + name),
                    AdapterArchive.Limits.forBody(1 << 20));
            assertEquals("top", dir.getFileName().toString(), name + ": its one top directory is the adapter's");
            Map<String, String> got = new TreeMap<>();
            Archives.files(dir).forEach((file, bytes) -> got.put(file, new String(bytes, StandardCharsets.UTF_8)));
            assertEquals(expected, got, name);
        }
    }

    private Path resource(String name) throws IOException {
        try (InputStream in = UploadTest.class.getResourceAsStream("/archives/" + name)) {
            assertNotNull(in, name);
            Path file = tmp.resolve(name);
            Files.write(file, in.readAllBytes());
            return file;
        }
    }

    /** A hostile archive and what its refusal must say. */
    private record Hostile(String what, byte[] archive, String cause) {
    }

    @Test
    void hostileArchivesAreRefusedNamingTheCauseWithNothingRegisteredOrLeft() throws Exception {
        Path state = tmp.resolve("state");
        try (ServerFixture f = ServerFixture.start(tmp.resolve("server"), ServerOptions.defaults(), state)) {
            assertEquals(200, upload(f, "good", "a.tar", Archives.tar(f.adapterA, null)).statusCode());
            String listed = f.get("/v1/adapters").body();
            long stored = count(state.resolve("store/sha256"));
            byte[] config = Files.readAllBytes(f.adapterA.resolve("adapter_config.json"));
            byte[] weights = Files.readAllBytes(f.adapterA.resolve("adapter_model.safetensors"));
            String model = "adapter_model.safetensors";
            byte[] bomb = new byte[(int) UNPACK_LIMIT + 1];
            byte[] zipBomb = Archives.zip(Map.of("adapter_config.json", config, model, bomb));
            Archives.Tar manyTar = new Archives.Tar();
            Map<String, byte[]> manyZip = new LinkedHashMap<>();
            for (int i = 0; i <= 1000; i++) {
                manyTar.file("f" + i, new byte[0]);
                manyZip.put("f" + i, new byte[0]);
            }
            byte[] damaged = new Archives.Tar().file("adapter_config.json", config).file(model, weights).bytes();
            damaged[512 + (config.length + 511) / 512 * 512 + 150]++; // the second header's checksum
            List<Hostile> hostile = List.of(
                    new Hostile("absolute.tar", new Archives.Tar().file("/adapter_config.json", config).bytes(),
                            "absolute path"),
                    new Hostile("absolute.zip", Archives.zip(Map.of("/etc/adapter_config.json", config)),
                            "absolute path"),
                    new Hostile("dotdot.tar", new Archives.Tar().file("adapter_config.json", config)
                            .file("../escape", weights).bytes(), "'..' component"),
                    new Hostile("dotdot.zip", Archives.zip(Map.of("x/../../escape", weights)), "'..' component"),
                    new Hostile("symlink.tar", new Archives.Tar().file("adapter_config.json", config)
                            .entry(model, '2', new byte[0], "/etc/passwd").bytes(), "is a symbolic link"),
                    new Hostile("symlink.zip", Archives.unixMode(Archives.zip(Map.of("adapter_config.json", config,
                            model, "/etc/passwd".getBytes(StandardCharsets.UTF_8))), model, 0120777),
                            "is a symbolic link"),
                    new Hostile("hard-link.tar", new Archives.Tar().file("adapter_config.json", config)
                            .entry(model, '1', new byte[0], "adapter_config.json").bytes(), "is a hard link"),
                    new Hostile("char-device.tar", new Archives.Tar().entry(model, '3', new byte[0], "").bytes(),
                            "is a character device"),
                    new Hostile("block-device.tar", new Archives.Tar().entry(model, '4', new byte[0], "").bytes(),
                            "is a block device"),
                    new Hostile("fifo.tar", new Archives.Tar().entry(model, '6', new byte[0], "").bytes(),
                            "is a FIFO"),
                    new Hostile("duplicate.tar", new Archives.Tar().file("adapter_config.json", config)
                            .file(model, weights).file("./" + model, weights).bytes(), "more than once"),
                    new Hostile("duplicate.zip", Archives.rename(Archives.zip(Map.of("adapter_config.json", config,
                            "adapter_config.jsoX", config)), "adapter_config.jsoX", "adapter_config.json"),
                            "more than once"),
                    new Hostile("file-and-directory.tar", new Archives.Tar().file("x", config).file("x/y", config)
                            .bytes(), "also has as a file"),
                    new Hostile("many.tar", manyTar.bytes(), "more than 1000 entries"),
                    new Hostile("many.zip", Archives.zip(manyZip), "more than 1000 entries"),
                    new Hostile("bomb.zip", zipBomb, "unpacks to more than " + UNPACK_LIMIT + " bytes"),
                    new Hostile("lying-bomb.zip", Archives.declaredSize(zipBomb, model, 1000),
                            "unpacks to more than " + UNPACK_LIMIT + " bytes"),
                    new Hostile("bomb.tar.gz", Archives.gzip(new Archives.Tar().file("adapter_config.json", config)
                            .file(model, bomb).bytes()), "unpacks to more than " + UNPACK_LIMIT + " bytes"),
                    new Hostile("damaged.tar", damaged, "header 2 has a wrong checksum"),
                    new Hostile("huge-pax.tar", new Archives.Tar().pax("comment", "x".repeat(70_000))
                            .file("adapter_config.json", config).bytes(), "a pax header of"),
                    new Hostile("empty.tar", new Archives.Tar().dir("top/").bytes(), "holds no files"),
                    new Hostile("notes.txt", "not an archive".getBytes(StandardCharsets.UTF_8),
                            "not a zip, a tar or a gzip'd tar"),
                    new Hostile("symlink.zip (Info-ZIP)", Files.readAllBytes(resource("symlink.zip")),
                            "is a symbolic link"),
                    new Hostile("symlink.tar.gz (GNU tar)", Files.readAllBytes(resource("symlink.tar.gz")),
                            "is a symbolic link"),
                    new Hostile("hard-link.tar.gz (GNU tar)", Files.readAllBytes(resource("hard-link.tar.gz")),
                            "is a hard link"),
                    new Hostile("fifo.tar.gz (GNU tar)", Files.readAllBytes(resource("fifo.tar.gz")), "is a FIFO"));
            for (Hostile h : hostile) {
                HttpResponse<String> r = upload(f, "evil", h.what(), h.archive());
                assertEquals(400, r.statusCode(), h.what() + ": " + r.body());
                assertEquals(AdapterArchive.CODE, error(r).get("code").asText(), h.what() + ": " + r.body());
                assertEquals("file", error(r).get("param").asText(), h.what() + ": " + r.body());
                assertTrue(error(r).get("message").asText().contains(h.cause()), h.what() + ": " + r.body());
                assertNothingLeft(state);
            }
            assertEquals(listed, f.get("/v1/adapters").body(), "nothing was registered");
            assertEquals(stored, count(state.resolve("store/sha256")), "nothing was stored");
            try (Stream<Path> all = Files.walk(tmp)) {
                assertEquals(List.of(), all.filter(p -> p.getFileName().toString().equals("escape")).toList(),
                        "nothing escaped");
            }
        }
    }

    private static String tenant(ServerFixture f, String name) throws Exception {
        HttpResponse<String> r = f.send("POST", "/v1/tenants", "{\"name\": \"" + name + "\"}", ADMIN);
        assertEquals(200, r.statusCode(), r.body());
        return ServerFixture.json(r.body()).get("api_key").asText();
    }

    @Test
    void aTenantsUploadIsItsOwnWithoutAnyAdapterRoot() throws Exception {
        Path state = tmp.resolve("state");
        try (ServerFixture f = ServerFixture.start(tmp.resolve("server"), ServerOptions.defaults(), state,
                new Access(ADMIN, List.of()))) {
            String alpha = tenant(f, "alpha");
            String beta = tenant(f, "beta");
            byte[] a = Archives.tar(f.adapterA, null);
            assertEquals(401, upload(f, "mine", "a.tar", a, Map.of(), null).statusCode());

            HttpResponse<String> mine = upload(f, "mine", "a.tar", a, Map.of(), alpha);
            assertEquals(200, mine.statusCode(), mine.body());
            assertEquals(engine(f, "a"), text(f, "mine", alpha));
            assertEquals(List.of("mine"), adapterNames(f, alpha));
            assertEquals(List.of(), adapterNames(f, beta));
            assertEquals(404, completion(f, "mine", beta).statusCode(), "another tenant's adapter is hidden");

            assertEquals(403, upload(f, "ours", "a.tar", a, Map.of("shared", "true"), alpha).statusCode());
            assertEquals(403, upload(f, "ours", "a.tar", a, Map.of("tenant", "beta"), alpha).statusCode());
            HttpResponse<String> forBeta = upload(f, "theirs", "b.zip", Archives.zip(f.adapterB, null),
                    Map.of("tenant", "beta"), ADMIN);
            assertEquals(200, forBeta.statusCode(), forBeta.body());
            assertEquals(List.of("theirs"), adapterNames(f, beta));
            assertEquals(List.of("mine"), adapterNames(f, alpha));
            HttpResponse<String> same = upload(f, "mine", "b.zip", Archives.zip(f.adapterB, null), Map.of(), beta);
            assertEquals(200, same.statusCode(), same.body());
            assertEquals("{\"name\":\"mine\",\"version\":1}", same.body(), "beta's own 'mine', beside alpha's");
            assertEquals(engine(f, "a"), text(f, "mine", alpha));
            assertEquals(engine(f, "b"), text(f, "mine", beta));
            assertNothingLeft(state);
        }
    }

    @Test
    void aBodyOverTheLimitIs413WhetherItsLengthIsDeclaredOrNot() throws Exception {
        Path state = tmp.resolve("state");
        try (ServerFixture f = ServerFixture.start(tmp.resolve("server"), ServerOptions.defaults(), state)) {
            byte[] noise = new byte[(int) ServerOptions.defaults().maxBodyBytes() + 4096];
            new SplittableRandom(7).nextBytes(noise);
            byte[] body = Archives.form(Map.of(), "big.tar", new Archives.Tar().file("adapter_config.json", noise)
                    .bytes());
            HttpResponse<String> declared = put(f, "big", HttpRequest.BodyPublishers.ofByteArray(body), null);
            assertEquals(413, declared.statusCode(), declared.body());
            assertEquals("request_too_large", error(declared).get("code").asText());
            HttpResponse<String> chunked = put(f, "big",
                    HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)), null);
            assertEquals(413, chunked.statusCode(), chunked.body());
            assertEquals(List.of(), adapterNames(f, null));
            assertNothingLeft(state);
        }
    }

    @Test
    void formPartsAreReadWhateverSizeTheReadsCome() throws Exception {
        // pieces of the delimiter CRLF--BOUNDARY, but never all of it, ending with all but its last byte
        String boundary = Archives.BOUNDARY;
        byte[] archive = ("\r\n--" + boundary.substring(0, 12) + "\r\n-\r\n--\r\n-" + boundary + "x\n--" + boundary
                + "\r\n--" + boundary.substring(0, boundary.length() - 1)).getBytes(StandardCharsets.UTF_8);
        byte[] body = ("preamble\r\n" + new String(Archives.form(Map.of("promote", "false"), "a.tar", archive),
                StandardCharsets.ISO_8859_1) + "epilogue").getBytes(StandardCharsets.ISO_8859_1);
        for (int chunk : new int[] {1, 7, 1 << 16}) {
            MultipartForm form = new MultipartForm(new Trickle(body, chunk), Archives.BOUNDARY);
            MultipartForm.Part promote = form.next();
            assertEquals("promote", promote.name());
            assertEquals("false", new String(promote.content().readAllBytes(), StandardCharsets.UTF_8));
            MultipartForm.Part file = form.next();
            assertEquals("file", file.name());
            assertEquals("a.tar", file.filename());
            assertArrayEquals(archive, file.content().readAllBytes(), "reads of " + chunk + " bytes");
            assertEquals(null, form.next());
        }
        byte[] unclosed = Archives.form(Map.of("promote", "false"), null, null);
        MultipartForm form = new MultipartForm(new ByteArrayInputStream(unclosed, 0, unclosed.length - 10),
                Archives.BOUNDARY);
        ApiException e = assertThrows(ApiException.class, () -> form.next().content().readAllBytes());
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains("no closing boundary"), e.getMessage());
    }

    /** An input stream that gives at most {@code chunk} bytes a read. */
    private static final class Trickle extends ByteArrayInputStream {
        private final int chunk;

        Trickle(byte[] bytes, int chunk) {
            super(bytes);
            this.chunk = chunk;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) {
            return super.read(b, off, Math.min(len, chunk));
        }
    }
}
