package dev.tailor.tokenizer;

/** Turns ids into text one at a time, holding back bytes until they form complete characters. */
public interface StreamingDecoder {

    /** Adds one id and returns the text that is now complete (possibly empty). */
    String next(int id);

    /** Returns whatever is held back (incomplete bytes become U+FFFD). */
    String flush();
}
