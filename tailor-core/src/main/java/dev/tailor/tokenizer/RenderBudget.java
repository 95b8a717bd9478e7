package dev.tailor.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;

import java.time.Duration;

/**
 * What one render of a chat template may still spend: the time left before its deadline, and the first limit it
 * broke. The sandbox checks it cooperatively, before every template node and on every attribute, method and filter
 * the template evaluates; once a limit is broken every later check throws the same {@link Violation}, so the render
 * unwinds within a few checks however Jinjava catches and continues. A budget belongs to the thread rendering;
 * {@link #start} makes it that thread's current one until {@link #close}.
 */
final class RenderBudget implements AutoCloseable {

    private static final ThreadLocal<RenderBudget> CURRENT = new ThreadLocal<>();

    private final ChatTemplate.Limits limits;
    private final long deadlineNanos;
    private final RenderBudget previous;
    private Violation violation;

    private RenderBudget(ChatTemplate.Limits limits, RenderBudget previous) {
        this.limits = limits;
        this.deadlineNanos = System.nanoTime() + limits.timeBudget().toNanos();
        this.previous = previous;
    }

    /** Starts the budget of a render on the current thread. */
    static RenderBudget start(ChatTemplate.Limits limits) {
        RenderBudget budget = new RenderBudget(limits, CURRENT.get());
        CURRENT.set(budget);
        return budget;
    }

    /**
     * Throws the render's violation if it has broken a limit or run out of time; does nothing outside a render.
     *
     * @throws Violation naming the limit
     */
    static void check() {
        RenderBudget budget = CURRENT.get();
        if (budget != null) {
            budget.checkTime();
        }
    }

    /**
     * Records that the current render broke a limit and returns the violation to throw. The first violation of a
     * render is the one reported.
     *
     * @param message what the template did, completing "chat template of FILE ..."
     */
    static Violation violation(String message) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        Violation v = new Violation(interpreter == null || interpreter.getLineNumber() <= 0 ? message
                : message + " (line " + interpreter.getLineNumber() + ")");
        RenderBudget budget = CURRENT.get();
        if (budget == null) {
            return v;
        }
        if (budget.violation == null) {
            budget.violation = v;
        }
        return budget.violation;
    }

    /** The longest string, and the longest output, the current render may produce. */
    static long maxChars() {
        RenderBudget budget = CURRENT.get();
        return budget == null ? ChatTemplate.Limits.DEFAULT.maxOutputChars() : budget.limits.maxOutputChars();
    }

    /** The first limit this render broke, or null. */
    Violation violation() {
        return violation;
    }

    private void checkTime() {
        if (violation != null) {
            throw violation;
        }
        if (System.nanoTime() - deadlineNanos > 0) {
            throw violation("exceeded its time budget of " + describe(limits.timeBudget()));
        }
    }

    @Override
    public void close() {
        if (previous == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(previous);
        }
    }

    /** A duration as people write it: "2 s", "250 ms". */
    static String describe(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }

    /**
     * A chat template broke a limit of its sandbox. Thrown through Jinjava, which may catch it and carry on; the
     * budget keeps the first one and {@link ChatTemplate#render} reports it. Carries no stack trace: it is thrown
     * again on every later check, and where the template was is in the message Jinjava adds.
     */
    static final class Violation extends RuntimeException {
        Violation(String message) {
            super(message, null, false, false);
        }
    }
}
