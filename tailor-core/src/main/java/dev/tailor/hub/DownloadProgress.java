package dev.tailor.hub;

/** Receives the progress of file downloads (one file at a time). */
public interface DownloadProgress {
    /**
     * A download starts.
     *
     * @param file        the repo path
     * @param total       bytes the file has, or -1 if unknown
     * @param resumedFrom bytes already on disk from an earlier, interrupted download
     */
    void start(String file, long total, long resumedFrom);

    /** {@code bytes} more bytes arrived. */
    void advance(long bytes);

    /** The current file is complete and verified. */
    void done(String file);

    /** The file was already in the cache. */
    void cached(String file);

    /** Progress that reports nothing. */
    static DownloadProgress none() {
        return new DownloadProgress() {
            @Override
            public void start(String file, long total, long resumedFrom) {
            }

            @Override
            public void advance(long bytes) {
            }

            @Override
            public void done(String file) {
            }

            @Override
            public void cached(String file) {
            }
        };
    }
}
