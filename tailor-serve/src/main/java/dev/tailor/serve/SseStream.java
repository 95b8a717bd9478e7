package dev.tailor.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events as OpenAI streams them: one {@code data: <json>} line and a blank line per chunk, flushed at
 * once, then {@code data: [DONE]}. A write that fails (the client went away) throws {@link ClientGone}, which ends
 * the generation feeding the stream.
 */
final class SseStream {
    /** The client closed the connection; nothing more can be sent. */
    static final class ClientGone extends RuntimeException {
        ClientGone(IOException cause) {
            super("the client closed the connection: " + cause.getMessage(), cause);
        }
    }

    private final ObjectMapper json;
    private final OutputStream out;

    SseStream(ObjectMapper json, OutputStream out) {
        this.json = json;
        this.out = out;
    }

    /** Sends {@code chunk} as one event. */
    void send(Object chunk) {
        try {
            write(json.writeValueAsString(chunk));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a chunk as JSON: " + e.getMessage(), e);
        }
    }

    /** Sends the final {@code data: [DONE]}. */
    void done() {
        write("[DONE]");
    }

    private void write(String data) {
        try {
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new ClientGone(e);
        } catch (UncheckedIOException e) {
            throw new ClientGone(e.getCause());
        }
    }
}
