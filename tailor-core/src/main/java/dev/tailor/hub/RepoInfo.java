package dev.tailor.hub;

import java.util.List;

/**
 * A repo at a revision, from {@code GET /api/models/{repo}/revision/{revision}}.
 *
 * @param repo   the repo
 * @param commit the commit hash the revision resolved to ({@code sha})
 * @param files  the files ({@code siblings})
 */
public record RepoInfo(RepoId repo, String commit, List<RepoFile> files) {
    public RepoInfo {
        files = List.copyOf(files);
    }
}
