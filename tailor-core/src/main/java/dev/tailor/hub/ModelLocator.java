package dev.tailor.hub;

import dev.tailor.io.gguf.GgufFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Turns what a user typed for a model into the path of its files: a model directory, a GGUF file, a repo id
 * {@code org/name} (optionally {@code org/name@revision}) found in the Hugging Face cache, or
 * {@code ollama:NAME[:TAG]}, the GGUF file of a model in Ollama's store.
 *
 * @param cache  the hub cache to look in
 * @param ollama Ollama's model store, or null when {@code ollama:} names are not looked up
 */
public record ModelLocator(HfCache cache, OllamaStore ollama) {

    /** A locator of directories, GGUF files and the Hugging Face cache, without an Ollama store. */
    public ModelLocator(HfCache cache) {
        this(cache, null);
    }

    /**
     * Resolves a model spec.
     *
     * @param spec a directory, a GGUF file, {@code org/name}, {@code org/name@revision} or
     *             {@code ollama:NAME[:TAG]}
     * @return the directory holding the model's files, or the GGUF file
     * @throws HubException saying the spec is neither a directory, a GGUF file nor a cached repo or Ollama model, and
     *                      how to download it
     */
    public Path resolve(String spec) {
        if (spec.startsWith(OllamaStore.PREFIX)) {
            if (ollama == null) {
                throw new HubException("\"" + spec + "\": no Ollama store is configured");
            }
            return ollama.resolve(spec.substring(OllamaStore.PREFIX.length()));
        }
        Path asPath = Path.of(spec);
        if (Files.isDirectory(asPath) || GgufFile.isGguf(asPath)) {
            return asPath;
        }
        if (Files.exists(asPath)) {
            throw new HubException(spec + ": is neither a GGUF file nor a model directory (config.json, "
                    + "*.safetensors, tokenizer.json); a model is one of those, a repo id ORG/NAME or ollama:NAME[:TAG]");
        }
        int at = spec.indexOf('@');
        String id = at < 0 ? spec : spec.substring(0, at);
        String revision = at < 0 ? "main" : spec.substring(at + 1);
        if (!RepoId.looksLikeRepoId(id) || revision.isEmpty()) {
            throw new HubException("\"" + spec + "\" is neither a directory nor a repo id of the form ORG/NAME");
        }
        RepoId repo = RepoId.parse(id);
        return cache.snapshot(repo, revision).orElseThrow(() -> notCached(spec, repo, revision));
    }

    private HubException notCached(String spec, RepoId repo, String revision) {
        String pull = "tailor pull " + repo + (revision.equals("main") ? "" : " --revision " + revision);
        Path repoDir = cache.repoDir(repo);
        if (!Files.isDirectory(repoDir)) {
            return new HubException("\"" + spec + "\" is neither a directory nor a model in the Hugging Face cache ("
                    + cache.root() + "); download it with: " + pull);
        }
        return new HubException("\"" + spec + "\": revision " + revision + " of " + repo
                + " is not in the Hugging Face cache (cached refs: " + String.join(", ", cachedRefs(repoDir))
                + "); download it with: " + pull);
    }

    private static List<String> cachedRefs(Path repoDir) {
        Path refs = repoDir.resolve("refs");
        if (!Files.isDirectory(refs)) {
            return List.of("none");
        }
        try (Stream<Path> files = Files.walk(refs)) {
            List<String> names = files.filter(Files::isRegularFile).map(p -> refs.relativize(p).toString())
                    .sorted().toList();
            return names.isEmpty() ? List.of("none") : names;
        } catch (IOException e) {
            return List.of("unreadable: " + e.getMessage());
        }
    }
}
