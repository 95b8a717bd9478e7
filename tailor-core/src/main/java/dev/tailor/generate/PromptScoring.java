package dev.tailor.generate;

import java.util.List;
import java.util.function.Consumer;

/**
 * Whether a generation scores its prompt: each prompt token's log-probability given the tokens before it, with
 * {@code top} alternatives, handed to {@code listener} (on the thread running the model) once the whole prompt has
 * run, before the first generated token.
 *
 * @param top      alternatives per prompt token, or -1 not to score the prompt
 * @param listener hears the prompt's log-probabilities, the first token's unscored
 */
record PromptScoring(int top, Consumer<List<TokenLogprob>> listener) {
    /** The prompt is not scored. */
    static final PromptScoring NONE = new PromptScoring(-1, lps -> { });

    /** Whether the prompt is scored. */
    boolean wanted() {
        return top >= 0;
    }
}
