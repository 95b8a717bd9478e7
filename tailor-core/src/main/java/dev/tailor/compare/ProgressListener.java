package dev.tailor.compare;

/** Hears how a comparison goes, method by method; every method does nothing unless overridden. */
public interface ProgressListener {
    /** A listener that hears nothing. */
    ProgressListener NONE = new ProgressListener() {
    };

    /** Method {@code method}, the {@code index}-th (from 0) of {@code count}, starts training for {@code steps} updates. */
    default void started(int index, int count, String method, long steps) {
    }

    /** Method {@code method} finished update {@code step} of {@code steps} with training loss {@code loss}. */
    default void step(String method, long step, long steps, double loss) {
    }

    /**
     * The {@code index}-th method's result is there: trained now, or {@code reused} from a run before (a comparison
     * resumed).
     */
    default void finished(int index, int count, MethodRun run, boolean reused) {
    }
}
