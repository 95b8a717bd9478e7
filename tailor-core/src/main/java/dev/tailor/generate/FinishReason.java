package dev.tailor.generate;

/** Why a generation ended (the OpenAI API's {@code finish_reason}). */
public enum FinishReason {
    /** An end-of-sequence token or a stop string. */
    STOP,
    /** The token budget or the context ran out. */
    LENGTH
}
