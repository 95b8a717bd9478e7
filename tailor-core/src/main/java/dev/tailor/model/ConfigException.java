package dev.tailor.model;

/** A model configuration is invalid or asks for something Tailor does not support; names the file and field. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
