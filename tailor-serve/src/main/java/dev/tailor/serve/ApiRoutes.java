package dev.tailor.serve;

import java.io.IOException;

/**
 * Endpoints beyond the server's own, mounted by {@link TailorServer#start(ServedModels, ServerOptions, Access,
 * java.util.List)} behind the same filters: the caller is authenticated as for every route ({@link Caller#current()}),
 * the request is counted and logged, and a handler runs as the server's own do: what it answers is sent as JSON, an
 * {@link ApiException} it throws as OpenAI's error body with its status, any other exception as a 500.
 */
public interface ApiRoutes {
    /** Mounts the endpoints on {@code routes}. */
    void register(Routes routes);

    /** Where endpoints are mounted; paths as Helidon's, with {@code {name}} parameters. */
    interface Routes {
        /** Answers {@code GET path}. */
        Routes get(String path, Handler handler);

        /** Answers {@code POST path}. */
        Routes post(String path, Handler handler);

        /** Answers {@code DELETE path}. */
        Routes delete(String path, Handler handler);
    }

    /** One endpoint. */
    @FunctionalInterface
    interface Handler {
        /**
         * Answers {@code request}: the returned object is sent as JSON (its record components in snake case).
         *
         * @throws ApiException to refuse the request
         */
        Object handle(ApiRequest request) throws IOException;
    }
}
