package dev.tailor.hub;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Download progress for a terminal: on a TTY one line per file redrawn in place (bytes, %, MB/s) at most five times
 * a second; otherwise plain lines when a file starts and ends, so logs stay readable.
 */
public final class ConsoleProgress implements DownloadProgress {
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintWriter out;
    private final boolean tty;
    private String file;
    private long total;
    private long received;
    private long resumedFrom;
    private long startNanos;
    private long lastDraw;

    /**
     * @param out where to write (stderr)
     * @param tty true to redraw one line in place
     */
    public ConsoleProgress(PrintWriter out, boolean tty) {
        this.out = out;
        this.tty = tty;
    }

    @Override
    public void start(String file, long total, long resumedFrom) {
        this.file = file;
        this.total = total;
        this.received = resumedFrom;
        this.resumedFrom = resumedFrom;
        this.startNanos = System.nanoTime();
        this.lastDraw = 0;
        if (!tty) {
            String size = total >= 0 ? mb(total) : "size unknown";
            out.println(resumedFrom > 0 ? "resuming " + file + " at " + mb(resumedFrom) + " of " + size
                    : "downloading " + file + " (" + size + ")");
            out.flush();
        }
    }

    @Override
    public void advance(long bytes) {
        received += bytes;
        long now = System.nanoTime();
        if (tty && now - lastDraw >= REDRAW_NANOS) {
            lastDraw = now;
            out.print("\r" + line(now) + "\u001b[K");
            out.flush();
        }
    }

    @Override
    public void done(String file) {
        long now = System.nanoTime();
        if (tty) {
            out.println("\r" + line(now) + "\u001b[K");
        } else {
            out.printf(Locale.ROOT, "%s: %s in %.1f s (%s)%n", file, mb(received), seconds(now), rate(now));
        }
        out.flush();
    }

    @Override
    public void cached(String file) {
        out.println(file + ": already in the cache");
        out.flush();
    }

    private String line(long now) {
        String pct = total > 0 ? String.format(Locale.ROOT, "%3d%%", received * 100 / total) : "  ?%";
        return String.format(Locale.ROOT, "%s %s %s / %s %s", file, pct, mb(received),
                total >= 0 ? mb(total) : "?", rate(now));
    }

    private double seconds(long now) {
        return Math.max(1e-9, (now - startNanos) / 1e9);
    }

    private String rate(long now) {
        return String.format(Locale.ROOT, "%.1f MB/s", (received - resumedFrom) / 1e6 / seconds(now));
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
