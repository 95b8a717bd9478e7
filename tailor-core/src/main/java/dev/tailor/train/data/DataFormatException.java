package dev.tailor.train.data;

/** A data file is malformed; the message names the file and line. */
public class DataFormatException extends RuntimeException {
    public DataFormatException(String message) {
        super(message);
    }
}
