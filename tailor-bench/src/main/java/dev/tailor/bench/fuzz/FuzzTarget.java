package dev.tailor.bench.fuzz;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/** One loader or check under fuzzing: draws a hostile input and says what the loader may do with it. */
public interface FuzzTarget {

    /** The target's name, as {@code tailor bench fuzz --target} takes it. */
    String name();

    /**
     * Draws one input from {@code rnd}, writes any files it needs under {@code dir} (empty, the trial's own), and
     * returns the trial that loads it.
     */
    Trial draw(SplittableRandom rnd, Path dir) throws IOException;

    /**
     * One drawn input and the property its loader must keep: {@code run} returns, or throws one of
     * {@code refusals} whose message contains one of {@code named} (the file or option at fault).
     *
     * @param input    the input, shown in a finding so it can be reproduced (a file's text, options given)
     * @param run      loads the input and uses what it returns
     * @param refusals the exception types the loader documents for bad input
     * @param named    what a refusal's message must contain, one of them; empty when any message will do
     */
    record Trial(String input, Run run, List<Class<? extends Exception>> refusals, List<String> named) {
    }

    /** The loading a trial does. */
    @FunctionalInterface
    interface Run {
        /** Loads the input and uses the result. */
        void run() throws Exception;
    }
}
