package dev.tailor.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Downloads model repos from the Hugging Face Hub into the hub cache, with the HTTP API huggingface_hub uses:
 * {@code GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true} lists the commit and files (with sizes,
 * blob ids and LFS sha256 when the Hub gives them; a {@code HEAD} on the file's resolve URL fills in what is missing
 * from {@code X-Linked-Etag}/{@code ETag} and {@code X-Linked-Size}/{@code Content-Length}); each file comes from
 * {@code {endpoint}/{repo}/resolve/{commit}/{path}} into {@code blobs/}, is linked from {@code snapshots/{commit}/},
 * and the ref {@code refs/{revision}} is written once every file is in place, so a repo found through its ref is
 * complete.
 */
public final class HubClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern BLOB_NAME = Pattern.compile("[0-9A-Za-z_\\-]{1,128}");

    private final HubSettings settings;
    private final HubHttp http;
    private final BlobDownloader downloader;
    private final DownloadProgress progress;

    /** A client for the settings' endpoint and cache, reporting downloads to {@code progress}. */
    public HubClient(HubSettings settings, DownloadProgress progress) {
        this.settings = settings;
        this.http = new HubHttp(settings.endpoint(), settings.token());
        this.downloader = new BlobDownloader(http, progress);
        this.progress = progress;
    }

    /**
     * Lists a repo at a revision.
     *
     * @throws HubException for a missing repo or revision (404), a private or gated one (401/403, naming HF_TOKEN),
     *                      or an unreachable endpoint
     */
    public RepoInfo repoInfo(RepoId repo, String revision) {
        URI url = URI.create(http.url("api", "models", repo.org(), repo.name(), "revision", revision) + "?blobs=true");
        HttpResponse<byte[]> r = http.send("GET", url, Map.of("Accept", "application/json"), false,
                HttpResponse.BodyHandlers.ofByteArray());
        HubErrors.check(r, http, repo, revision, null);
        JsonNode root;
        try {
            root = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new HubException(url + ": the repo listing is not valid JSON: " + e.getMessage(), e);
        }
        String sha = root.path("sha").asText("");
        if (!HfCache.isCommitHash(sha) || !root.path("siblings").isArray()) {
            throw new HubException(url + ": the repo listing lacks a 40-digit \"sha\" or a \"siblings\" list");
        }
        List<RepoFile> files = new ArrayList<>();
        for (JsonNode s : root.get("siblings")) {
            JsonNode lfs = s.path("lfs");
            long size = lfs.has("size") ? lfs.get("size").asLong() : s.path("size").asLong(-1);
            files.add(new RepoFile(s.path("rfilename").asText(), size, s.hasNonNull("blobId")
                    ? s.get("blobId").asText() : null, lfs.hasNonNull("sha256") ? lfs.get("sha256").asText() : null));
        }
        return new RepoInfo(repo, sha, files);
    }

    /**
     * Downloads the files of {@code repo} at {@code revision} that match {@code includes} (all when empty) into the
     * cache, skipping those already there, and resuming partial downloads.
     *
     * @return the snapshot directory, {@code models--ORG--NAME/snapshots/COMMIT}
     * @throws HubException with a message naming the repo, revision or file that failed, and why
     */
    public Path pull(RepoId repo, String revision, List<String> includes) {
        RepoInfo info = repoInfo(repo, revision);
        Globs globs = new Globs(includes);
        List<RepoFile> wanted = info.files().stream().filter(f -> globs.matches(f.path())).toList();
        if (wanted.isEmpty()) {
            throw new HubException("no file of " + repo + " at " + revision + " matches --include " + includes
                    + " (files: " + info.files().stream().map(RepoFile::path).toList() + ")");
        }
        HfCache cache = settings.cache();
        Path snapshot = cache.snapshotDir(repo, info.commit());
        try {
            for (RepoFile file : wanted) {
                fetch(repo, info.commit(), file, SnapshotLinks.target(snapshot, file.path()));
            }
            if (!revision.equals(info.commit())) {
                Path ref = cache.refFile(repo, revision);
                Files.createDirectories(ref.getParent());
                Files.writeString(ref, info.commit());
            }
        } catch (IOException e) {
            throw new HubException("cannot write to the Hugging Face cache " + cache.root() + ": "
                    + HubHttp.describe(e), e);
        }
        return snapshot;
    }

    private void fetch(RepoId repo, String commit, RepoFile file, Path link) throws IOException {
        if (Files.exists(link)) {
            progress.cached(file.path());
            return;
        }
        URI url = resolveUrl(repo, commit, file.path());
        RepoFile meta = file.size() >= 0 && (file.lfsSha256() != null || file.blobId() != null)
                ? file : head(repo, commit, file, url);
        String blobName = meta.lfsSha256() != null ? meta.lfsSha256() : meta.blobId();
        if (blobName == null || !BLOB_NAME.matcher(blobName).matches()) {
            throw new HubException(url + ": the Hub gave no usable ETag (" + blobName + ") to name the blob");
        }
        Path blobs = Files.createDirectories(settings.cache().blobsDir(repo));
        Path blob = blobs.resolve(blobName);
        if (!Files.exists(blob)) {
            downloader.download(repo, commit, file, url, blob, meta.size(), meta.lfsSha256());
        } else {
            progress.cached(file.path());
        }
        SnapshotLinks.link(blob, link);
    }

    private URI resolveUrl(RepoId repo, String commit, String path) {
        List<String> segments = new ArrayList<>(List.of(repo.org(), repo.name(), "resolve", commit));
        segments.addAll(List.of(path.split("/")));
        return http.url(segments.toArray(String[]::new));
    }

    /** File metadata from a HEAD on the resolve URL, stopping at the Hub's redirect to a CDN. */
    private RepoFile head(RepoId repo, String commit, RepoFile file, URI url) {
        HttpResponse<Void> r = http.send("HEAD", url, Map.of("Accept-Encoding", "identity"), true,
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() / 100 != 3) {
            HubErrors.check(r, http, repo, commit, file.path());
        }
        var h = r.headers();
        String etag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElse(null);
        String blob = etag == null ? null : etag.replaceFirst("^W/", "").replace("\"", "");
        long size = h.firstValueAsLong("X-Linked-Size").orElse(h.firstValueAsLong("Content-Length").orElse(-1));
        boolean lfs = h.firstValue("X-Linked-Etag").isPresent();
        return new RepoFile(file.path(), file.size() >= 0 ? file.size() : size, blob,
                file.lfsSha256() != null ? file.lfsSha256() : lfs ? blob : null);
    }

    @Override
    public void close() {
        http.close();
    }
}
