package dev.tailor.hub;

import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.tensor.DType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HubClientTest {
    private static final RepoId REPO = RepoId.parse(FakeHub.REPO);

    @TempDir
    Path tmp;
    private FakeHub hub;
    private final Map<String, String> env = new HashMap<>();
    private byte[] weights;

    @BeforeEach
    void startHub() throws IOException {
        float[] values = new float[100_000];
        Random rnd = new Random(7);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        Path st = tmp.resolve("w.safetensors");
        new SafetensorsWriter().add("w", DType.F32, new long[]{values.length}, values).write(st);
        weights = Files.readAllBytes(st);
        hub = new FakeHub();
        hub.files.put("config.json", "{\"model_type\": \"llama\"}".getBytes(StandardCharsets.UTF_8));
        hub.files.put("model.safetensors", weights);
        hub.lfs.add("model.safetensors");
        env.put("HF_ENDPOINT", hub.endpoint());
        env.put("HF_HOME", tmp.resolve("hf-home").toString());
        env.put("HF_HUB_CACHE", tmp.resolve("cache").toString());
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private Path pull(String revision, List<String> includes) {
        try (HubClient client = new HubClient(HubSettings.fromEnv(env, tmp), DownloadProgress.none())) {
            return client.pull(REPO, revision, includes);
        }
    }

    private String pullFails(String repo, String revision) {
        try (HubClient client = new HubClient(HubSettings.fromEnv(env, tmp), DownloadProgress.none())) {
            return assertThrows(HubException.class, () -> client.pull(RepoId.parse(repo), revision, List.of()))
                    .getMessage();
        }
    }

    private Path repoDir() {
        return tmp.resolve("cache/models--org--tiny");
    }

    private List<String> leftovers() throws IOException {
        if (!Files.isDirectory(repoDir().resolve("blobs"))) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(repoDir().resolve("blobs"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".incomplete")).toList();
        }
    }

    @Test
    void fullPullLaysOutTheCacheAndTheLocatorFindsIt() throws IOException {
        hub.requiredToken = "hf_secret";
        env.put("HF_TOKEN", "hf_secret");
        Path snapshot = pull("main", List.of());
        assertEquals(repoDir().resolve("snapshots/" + FakeHub.COMMIT), snapshot);
        assertEquals(FakeHub.COMMIT, Files.readString(repoDir().resolve("refs/main")));
        Path model = snapshot.resolve("model.safetensors");
        Path config = snapshot.resolve("config.json");
        assertTrue(Files.isSymbolicLink(model));
        assertEquals(Path.of("../../blobs/" + FakeHub.sha256(weights)), Files.readSymbolicLink(model));
        assertEquals(Path.of("../../blobs/" + FakeHub.gitBlobId(hub.files.get("config.json"))),
                Files.readSymbolicLink(config));
        assertArrayEquals(weights, Files.readAllBytes(model));
        assertEquals("{\"model_type\": \"llama\"}", Files.readString(config));
        assertEquals(List.of(), leftovers());
        assertEquals(List.of("null"), hub.cdnAuthorizations);

        ModelLocator locator = new ModelLocator(HfCache.fromEnv(env, tmp));
        assertEquals(snapshot, locator.resolve("org/tiny"));
        assertEquals(snapshot, locator.resolve("org/tiny@" + FakeHub.COMMIT));
        try (SafetensorsFile f = SafetensorsFile.open(locator.resolve("org/tiny").resolve("model.safetensors"))) {
            assertEquals(100_000, f.info("w").elementCount());
        }

        int before = hub.requests.size();
        assertEquals(snapshot, pull("main", List.of()));
        assertEquals(List.of("GET /api/models/org/tiny/revision/main null"),
                hub.requests.subList(before, hub.requests.size()));
    }

    @Test
    void includeSelectsFiles() {
        Path snapshot = pull("main", List.of("*.json"));
        assertTrue(Files.exists(snapshot.resolve("config.json")));
        assertFalse(Files.exists(snapshot.resolve("model.safetensors")));
        try (HubClient client = new HubClient(HubSettings.fromEnv(env, tmp), DownloadProgress.none())) {
            HubException e = assertThrows(HubException.class, () -> client.pull(REPO, "main", List.of("*.bin")));
            assertTrue(e.getMessage().startsWith("no file of org/tiny at main matches --include [*.bin]"),
                    e.getMessage());
        }
    }

    @Test
    void headFillsInWhatTheListingLacks() throws IOException {
        hub.listSizes = false;
        Path snapshot = pull(FakeHub.COMMIT, List.of());
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        String base = "/org/tiny/resolve/" + FakeHub.COMMIT + "/";
        assertTrue(hub.requests.contains("HEAD " + base + "config.json null"), hub.requests.toString());
        assertTrue(hub.requests.contains("HEAD " + base + "model.safetensors null"), hub.requests.toString());
        assertFalse(hub.requests.stream().anyMatch(r -> r.startsWith("CDN HEAD")), hub.requests.toString());
        assertTrue(Files.exists(repoDir().resolve("blobs/" + FakeHub.sha256(weights))));
        assertFalse(Files.exists(repoDir().resolve("refs")), "a pull by commit writes no ref");
    }

    @Test
    void interruptedDownloadResumesWithRange() throws IOException {
        hub.cutNextLfsTransferAt = 150_000;
        String msg = pullFails(FakeHub.REPO, "main");
        assertTrue(msg.contains("download of model.safetensors of org/tiny was interrupted"), msg);
        assertTrue(msg.contains("run the same command again to resume"), msg);
        Path partial = repoDir().resolve("blobs/" + FakeHub.sha256(weights) + ".incomplete");
        // the server wrote 150,000 bytes before cutting; the bytes still in flight when it resets are lost
        long kept = Files.size(partial);
        assertTrue(kept > 0 && kept <= 150_000, "partial file of " + kept + " bytes");
        assertFalse(Files.exists(repoDir().resolve("snapshots/" + FakeHub.COMMIT + "/model.safetensors"),
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(repoDir().resolve("refs/main")));

        Path snapshot = pull("main", List.of());
        assertTrue(hub.requests.contains("CDN GET model.safetensors bytes=" + kept + "-"), hub.requests.toString());
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        assertEquals(List.of(), leftovers());
        assertEquals(FakeHub.COMMIT, Files.readString(repoDir().resolve("refs/main")));
    }

    @Test
    void sizeMismatchIsDetectedAndNothingHalfWrittenRemains() throws IOException {
        hub.sizeSkew = 10;
        String msg = pullFails(FakeHub.REPO, "main");
        int size = hub.files.get("config.json").length;
        assertEquals("size mismatch for config.json of org/tiny: expected " + (size + 10) + " bytes, received "
                + size + "; the download was discarded, run the command again", msg);
        assertEquals(List.of(), leftovers());
        Path snapshot = repoDir().resolve("snapshots/" + FakeHub.COMMIT);
        assertFalse(Files.exists(snapshot.resolve("config.json"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(repoDir().resolve("refs/main")));
    }

    @Test
    void notFoundMessages() {
        assertEquals("repo org/missing or revision main not found at " + hub.endpoint() + " (HTTP 404)",
                pullFails("org/missing", "main"));
        assertEquals("revision nope not found in org/tiny (HTTP 404)", pullFails(FakeHub.REPO, "nope"));
    }

    @Test
    void unauthorizedMessagesNameHfToken() {
        hub.requiredToken = "hf_secret";
        String missing = pullFails(FakeHub.REPO, "main");
        assertTrue(missing.startsWith("access to org/tiny denied (HTTP 401)"), missing);
        assertTrue(missing.contains("set HF_TOKEN"), missing);
        env.put("HF_TOKEN", "hf_wrong");
        String wrong = pullFails(FakeHub.REPO, "main");
        assertTrue(wrong.contains("the token in HF_TOKEN cannot read it"), wrong);
    }

    @Test
    void tokenFileIsUsedWhenHfTokenIsUnset() throws IOException {
        hub.requiredToken = "hf_from_file";
        Files.createDirectories(tmp.resolve("hf-home"));
        Files.writeString(tmp.resolve("hf-home/token"), "hf_from_file\n");
        assertTrue(Files.exists(pull("main", List.of("config.json")).resolve("config.json")));
    }

    @Test
    void unreachableEndpoint() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        env.put("HF_ENDPOINT", "http://127.0.0.1:" + port);
        String msg = pullFails(FakeHub.REPO, "main");
        assertTrue(msg.startsWith("cannot reach http://127.0.0.1:" + port + " (GET "), msg);
        assertTrue(msg.contains("ConnectException"), msg);
    }
}
