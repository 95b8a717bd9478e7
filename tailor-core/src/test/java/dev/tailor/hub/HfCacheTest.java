package dev.tailor.hub;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HfCacheTest {
    private static final String COMMIT = "aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd";

    @TempDir
    Path tmp;

    @Test
    void cacheDirectoryFollowsHuggingFaceHubPrecedence() {
        Path home = Path.of("/home/u");
        assertEquals(Path.of("/c/hub"), HfCache.fromEnv(Map.of("HF_HUB_CACHE", "/c/hub", "HF_HOME", "/h",
                "HUGGINGFACE_HUB_CACHE", "/legacy"), home).root());
        assertEquals(Path.of("/legacy"), HfCache.fromEnv(Map.of("HUGGINGFACE_HUB_CACHE", "/legacy", "HF_HOME", "/h"),
                home).root());
        assertEquals(Path.of("/h/hub"), HfCache.fromEnv(Map.of("HF_HOME", "/h", "XDG_CACHE_HOME", "/x"), home).root());
        assertEquals(Path.of("/x/huggingface/hub"), HfCache.fromEnv(Map.of("XDG_CACHE_HOME", "/x"), home).root());
        assertEquals(Path.of("/home/u/.cache/huggingface/hub"), HfCache.fromEnv(Map.of(), home).root());
        assertEquals(Path.of("/home/u/.cache/huggingface/hub"), HfCache.fromEnv(Map.of("HF_HUB_CACHE", ""), home).root());
        assertEquals(Path.of("/home/u/hf/hub"), HfCache.fromEnv(Map.of("HF_HOME", "~/hf"), home).root());
    }

    @Test
    void settingsReadEndpointAndToken() {
        HubSettings s = HubSettings.fromEnv(Map.of("HF_ENDPOINT", "http://mirror:8080/", "HF_TOKEN", "hf_x",
                "HF_HOME", tmp.toString()), tmp);
        assertEquals("http://mirror:8080", s.endpoint().toString());
        assertEquals("hf_x", s.token());
        assertFalse(s.toString().contains("hf_x"));
        HubSettings d = HubSettings.fromEnv(Map.of("HF_HOME", tmp.toString()), tmp);
        assertEquals(HubSettings.DEFAULT_ENDPOINT, d.endpoint().toString());
        assertEquals(null, d.token());
    }

    @Test
    void repoIdsAreValidated() {
        assertEquals("models--meta-llama--Llama-3.2-1B", RepoId.parse("meta-llama/Llama-3.2-1B").cacheFolder());
        for (String bad : List.of("noslash", "a/b/c", "a/../b", "a/..", "../x", "a--b/c", "a/ b", "/x", "x/")) {
            assertFalse(RepoId.looksLikeRepoId(bad), bad);
            assertThrows(IllegalArgumentException.class, () -> RepoId.parse(bad), bad);
        }
    }

    private Path cachedRepo(HfCache cache) throws IOException {
        RepoId repo = RepoId.parse("org/name");
        Path snap = Files.createDirectories(cache.snapshotDir(repo, COMMIT));
        Files.createDirectories(cache.repoDir(repo).resolve("refs"));
        Files.writeString(cache.refFile(repo, "main"), COMMIT);
        return snap;
    }

    @Test
    void locatorResolvesDirectoriesAndCachedRepos() throws IOException {
        HfCache cache = new HfCache(tmp.resolve("hub"));
        Path snap = cachedRepo(cache);
        ModelLocator locator = new ModelLocator(cache);
        assertEquals(snap, locator.resolve("org/name"));
        assertEquals(snap, locator.resolve("org/name@main"));
        assertEquals(snap, locator.resolve("org/name@" + COMMIT));
        assertEquals(tmp, locator.resolve(tmp.toString()));
    }

    @Test
    void locatorExplainsWhatIsMissing() throws IOException {
        HfCache cache = new HfCache(tmp.resolve("hub"));
        cachedRepo(cache);
        ModelLocator locator = new ModelLocator(cache);
        assertEquals("\"other/model\" is neither a directory nor a model in the Hugging Face cache (" + cache.root()
                + "); download it with: tailor pull other/model",
                assertThrows(HubException.class, () -> locator.resolve("other/model")).getMessage());
        assertEquals("\"org/name@v2\": revision v2 of org/name is not in the Hugging Face cache (cached refs: main); "
                + "download it with: tailor pull org/name --revision v2",
                assertThrows(HubException.class, () -> locator.resolve("org/name@v2")).getMessage());
        assertEquals("\"no-such-dir\" is neither a directory nor a repo id of the form ORG/NAME",
                assertThrows(HubException.class, () -> locator.resolve("no-such-dir")).getMessage());
        Path file = Files.writeString(tmp.resolve("f.txt"), "x");
        assertTrue(assertThrows(HubException.class, () -> locator.resolve(file.toString())).getMessage()
                .contains("is neither a GGUF file nor a model directory"));
        assertThrows(HubException.class, () -> cache.refFile(RepoId.parse("org/name"), "../../../etc"));
    }

    @Test
    void globsFollowFnmatch() {
        Globs g = new Globs(List.of("*.json", "model-0000[1-2]-*.safetensors", "original/"));
        assertTrue(g.matches("config.json"));
        assertTrue(g.matches("sub/dir/tokenizer.json"));
        assertTrue(g.matches("model-00002-of-00003.safetensors"));
        assertFalse(g.matches("model-00003-of-00003.safetensors"));
        assertTrue(g.matches("original/params.bin"));
        assertFalse(g.matches("model.safetensors"));
        assertTrue(new Globs(List.of()).matches("anything"));
        assertTrue(new Globs(List.of("[!a]?.txt")).matches("bc.txt"));
        assertFalse(new Globs(List.of("[!a]?.txt")).matches("ac.txt"));
    }
}
