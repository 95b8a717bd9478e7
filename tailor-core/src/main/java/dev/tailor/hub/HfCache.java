package dev.tailor.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Hugging Face hub cache, laid out as huggingface_hub lays it out:
 * <pre>
 * {root}/models--ORG--NAME/refs/{revision}        the commit a branch or tag points to
 *                          snapshots/{commit}/…   the repo's files, symlinks into blobs/
 *                          blobs/{etag}           file contents, named by sha256 (LFS) or git blob id
 * </pre>
 *
 * @param root the hub cache directory
 */
public record HfCache(Path root) {
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    /**
     * Resolves the cache directory as huggingface_hub does: {@code HF_HUB_CACHE}, else the legacy
     * {@code HUGGINGFACE_HUB_CACHE}, else {@code HF_HOME/hub}, where {@code HF_HOME} defaults to
     * {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. Empty variables count as unset.
     *
     * @param env  the environment (injected so tests do not depend on the real one)
     * @param home the user's home directory
     */
    public static HfCache fromEnv(Map<String, String> env, Path home) {
        return get(env, "HF_HUB_CACHE").or(() -> get(env, "HUGGINGFACE_HUB_CACHE"))
                .map(p -> new HfCache(expandHome(p, home)))
                .orElseGet(() -> new HfCache(hfHome(env, home).resolve("hub")));
    }

    /** {@code HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. */
    public static Path hfHome(Map<String, String> env, Path home) {
        return get(env, "HF_HOME").map(p -> expandHome(p, home))
                .orElseGet(() -> get(env, "XDG_CACHE_HOME").map(p -> expandHome(p, home))
                        .orElse(home.resolve(".cache")).resolve("huggingface"));
    }

    static Optional<String> get(Map<String, String> env, String key) {
        return Optional.ofNullable(env.get(key)).filter(v -> !v.isBlank());
    }

    static Path expandHome(String path, Path home) {
        if (path.equals("~")) {
            return home;
        }
        return path.startsWith("~/") ? home.resolve(path.substring(2)) : Path.of(path);
    }

    /** True for a full 40-hex-digit commit hash. */
    public static boolean isCommitHash(String revision) {
        return COMMIT.matcher(revision).matches();
    }

    /** {@code models--ORG--NAME}. */
    public Path repoDir(RepoId repo) {
        return root.resolve(repo.cacheFolder());
    }

    /** {@code models--ORG--NAME/blobs}. */
    public Path blobsDir(RepoId repo) {
        return repoDir(repo).resolve("blobs");
    }

    /** {@code models--ORG--NAME/snapshots/COMMIT}. */
    public Path snapshotDir(RepoId repo, String commit) {
        if (!isCommitHash(commit)) {
            throw new HubException(repo + ": \"" + commit + "\" is not a 40-digit commit hash");
        }
        return repoDir(repo).resolve("snapshots").resolve(commit);
    }

    /** {@code models--ORG--NAME/refs/REVISION}; the revision may hold slashes ({@code refs/pr/1}) but no {@code ..}. */
    public Path refFile(RepoId repo, String revision) {
        Path refs = repoDir(repo).resolve("refs");
        Path file = refs.resolve(revision).normalize();
        if (revision.isEmpty() || revision.startsWith("/") || !file.startsWith(refs) || file.equals(refs)) {
            throw new HubException(repo + ": revision \"" + revision + "\" is not a valid branch, tag or commit");
        }
        return file;
    }

    /** The commit a cached ref points to, if the ref is cached. */
    public Optional<String> readRef(RepoId repo, String revision) {
        Path file = refFile(repo, revision);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readString(file).strip());
        } catch (IOException e) {
            throw new HubException(file + ": cannot read cached ref: " + e.getMessage(), e);
        }
    }

    /**
     * The snapshot directory of a cached revision: a branch or tag through {@code refs/}, or a commit hash directly.
     */
    public Optional<Path> snapshot(RepoId repo, String revision) {
        Optional<String> commit = isCommitHash(revision) ? Optional.of(revision) : readRef(repo, revision);
        return commit.filter(HfCache::isCommitHash).map(c -> snapshotDir(repo, c)).filter(Files::isDirectory);
    }
}
