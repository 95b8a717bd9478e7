package dev.tailor.serve;

import dev.tailor.adapt.InvalidOptionException;

import java.time.Duration;

/**
 * Where the server listens and the limits it puts on requests.
 *
 * @param host           the address to bind (loopback unless the operator says otherwise)
 * @param port           the port; 0 picks a free one ({@link TailorServer#port()} tells which)
 * @param maxTokensLimit the most {@code max_tokens} a request may ask for, and the default when it asks none
 * @param maxBodyBytes   the largest request body accepted; larger ones are answered 413
 * @param maxQueue       the most generation requests that may wait for a place in the batch; one more is answered
 *                       429
 * @param requestTimeout the longest a generation request may take, waiting included; past it, it is stopped and
 *                       answered 504 (or, streaming, its stream ends with an error event)
 * @param maxBatch       the most requests generating together in the running batch
 */
public record ServerOptions(String host, int port, int maxTokensLimit, long maxBodyBytes, int maxQueue,
                            Duration requestTimeout, int maxBatch) {
    /** The host served unless told otherwise: loopback only. */
    public static final String LOOPBACK = "127.0.0.1";

    /**
     * Checks the ranges.
     *
     * @throws InvalidOptionException naming the option out of range
     */
    public ServerOptions {
        if (host == null || host.isBlank()) {
            throw new InvalidOptionException("host", "host must be an address, got \"" + host + "\"");
        }
        if (port < 0 || port > 65_535) {
            throw new InvalidOptionException("port", "port must be in [0, 65535], got " + port);
        }
        if (maxTokensLimit < 1) {
            throw new InvalidOptionException("max_tokens_limit", "max_tokens_limit must be >= 1, got " + maxTokensLimit);
        }
        if (maxBodyBytes < 1) {
            throw new InvalidOptionException("max_body_bytes", "max_body_bytes must be >= 1, got " + maxBodyBytes);
        }
        if (maxQueue < 1) {
            throw new InvalidOptionException("max_queue", "max_queue must be >= 1, got " + maxQueue);
        }
        if (maxBatch < 1) {
            throw new InvalidOptionException("max_batch", "max_batch must be >= 1, got " + maxBatch);
        }
        if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new InvalidOptionException("request_timeout", "request_timeout must be positive, got " + requestTimeout);
        }
    }

    /** With the default queue (64), request timeout (600 s) and batch (16). */
    public ServerOptions(String host, int port, int maxTokensLimit, long maxBodyBytes) {
        this(host, port, maxTokensLimit, maxBodyBytes, 64, Duration.ofSeconds(600), 16);
    }

    /**
     * Loopback, a free port, at most 1024 tokens per request, bodies up to 1 MiB, 64 waiting, 600 s each, 16 in the
     * batch.
     */
    public static ServerOptions defaults() {
        return new ServerOptions(LOOPBACK, 0, 1024, 1 << 20);
    }

    /** A copy on another port. */
    public ServerOptions withPort(int value) {
        return new ServerOptions(host, value, maxTokensLimit, maxBodyBytes, maxQueue, requestTimeout, maxBatch);
    }

    /** A copy with another queue limit. */
    public ServerOptions withMaxQueue(int value) {
        return new ServerOptions(host, port, maxTokensLimit, maxBodyBytes, value, requestTimeout, maxBatch);
    }

    /** A copy with another request timeout. */
    public ServerOptions withRequestTimeout(Duration value) {
        return new ServerOptions(host, port, maxTokensLimit, maxBodyBytes, maxQueue, value, maxBatch);
    }

    /** A copy with another batch size. */
    public ServerOptions withMaxBatch(int value) {
        return new ServerOptions(host, port, maxTokensLimit, maxBodyBytes, maxQueue, requestTimeout, value);
    }
}
