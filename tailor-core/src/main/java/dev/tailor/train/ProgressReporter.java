package dev.tailor.train;

import java.io.PrintWriter;
import java.io.Writer;
import java.time.Duration;

/**
 * Shows training progress: on a terminal one self-overwriting bar (step/total, loss, tokens/s, ETA, memory);
 * otherwise a plain line every {@code plainEvery} steps. Messages go on their own lines.
 */
public final class ProgressReporter {
    private final PrintWriter out;
    private final boolean terminal;
    private final int plainEvery;
    private final long startNanos = System.nanoTime();
    private long firstStep = -1;
    private boolean barShown;

    /** A reporter on {@code out}; {@code terminal} selects the bar. */
    public ProgressReporter(PrintWriter out, boolean terminal, int plainEvery) {
        this.out = out;
        this.terminal = terminal;
        this.plainEvery = Math.max(1, plainEvery);
    }

    /** A reporter that prints nothing. */
    public static ProgressReporter silent() {
        return new ProgressReporter(new PrintWriter(Writer.nullWriter()), false, 1);
    }

    /** Reports a finished update. */
    public void step(long step, long total, double loss, double tokensPerSecond, double rssMib) {
        if (firstStep < 0) {
            firstStep = step - 1;
        }
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        double eta = elapsed / (step - firstStep) * (total - step);
        String text = String.format("step %d/%d  loss %.4f  %.0f tok/s  ETA %s  mem %.0f MiB", step, total, loss,
                tokensPerSecond, format(eta), rssMib);
        if (terminal) {
            int width = 24;
            int filled = (int) (width * step / Math.max(1, total));
            out.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + text + "   ");
            out.flush();
            barShown = true;
        } else if (step % plainEvery == 0 || step == total) {
            out.println(text);
            out.flush();
        }
    }

    /** Prints a message on its own line. */
    public void message(String text) {
        if (barShown) {
            out.println();
            barShown = false;
        }
        out.println(text);
        out.flush();
    }

    /** Ends the bar's line. */
    public void finish() {
        if (barShown) {
            out.println();
            barShown = false;
        }
    }

    private static String format(double seconds) {
        Duration d = Duration.ofSeconds((long) Math.max(0, seconds));
        return String.format("%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart());
    }
}
