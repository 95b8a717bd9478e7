package dev.tailor.hub;

/** The Hub or the local cache cannot provide what was asked; the message says which repo, revision or file and why. */
public class HubException extends RuntimeException {
    /** An error with a message for the user. */
    public HubException(String message) {
        super(message);
    }

    /** An error with a message for the user and its cause. */
    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
