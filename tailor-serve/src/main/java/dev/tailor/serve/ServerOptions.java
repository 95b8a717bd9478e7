package dev.tailor.serve;

/**
 * Where the server listens and the limits it puts on requests.
 *
 * @param host           the address to bind (loopback unless the operator says otherwise)
 * @param port           the port; 0 picks a free one ({@link TailorServer#port()} tells which)
 * @param maxTokensLimit the most {@code max_tokens} a request may ask for, and the default when it asks none
 * @param maxBodyBytes   the largest request body accepted; larger ones are answered 413
 */
public record ServerOptions(String host, int port, int maxTokensLimit, long maxBodyBytes) {
    /** The host served unless told otherwise: loopback only. */
    public static final String LOOPBACK = "127.0.0.1";

    /** Checks the ranges. */
    public ServerOptions {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must be an address, got \"" + host + "\"");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        if (maxTokensLimit < 1) {
            throw new IllegalArgumentException("max tokens limit must be >= 1, got " + maxTokensLimit);
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("max body bytes must be >= 1, got " + maxBodyBytes);
        }
    }

    /** Loopback, a free port, at most 1024 tokens per request, bodies up to 1 MiB. */
    public static ServerOptions defaults() {
        return new ServerOptions(LOOPBACK, 0, 1024, 1 << 20);
    }

    /** A copy on another port. */
    public ServerOptions withPort(int value) {
        return new ServerOptions(host, value, maxTokensLimit, maxBodyBytes);
    }
}
