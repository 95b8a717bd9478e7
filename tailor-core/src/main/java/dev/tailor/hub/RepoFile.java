package dev.tailor.hub;

/**
 * One file of a repo at a commit, as the Hub's {@code siblings} list gives it.
 *
 * @param path      path in the repo ({@code rfilename}), e.g. {@code model.safetensors}
 * @param size      bytes, or -1 when the listing did not say
 * @param blobId    the git blob id, or null
 * @param lfsSha256 the sha256 of an LFS file's content, or null for a plain git file
 */
public record RepoFile(String path, long size, String blobId, String lfsSha256) {
}
