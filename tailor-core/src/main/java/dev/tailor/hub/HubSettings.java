package dev.tailor.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where the Hub is and who we are: read from the environment as huggingface_hub reads it.
 *
 * @param endpoint {@code HF_ENDPOINT}, default {@code https://huggingface.co} (no trailing slash)
 * @param token    {@code HF_TOKEN}, else the token file ({@code HF_TOKEN_PATH}, default {@code HF_HOME/token})
 *                 written by {@code huggingface-cli login}; null when there is none
 * @param cache    the hub cache
 */
public record HubSettings(URI endpoint, String token, HfCache cache) {
    /** The public Hub. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    public HubSettings {
        String e = endpoint.toString();
        if (e.endsWith("/")) {
            endpoint = URI.create(e.substring(0, e.length() - 1));
        }
    }

    /**
     * Reads the settings.
     *
     * @param env  the environment (injected so tests do not depend on the real one)
     * @param home the user's home directory
     */
    public static HubSettings fromEnv(Map<String, String> env, Path home) {
        URI endpoint = URI.create(HfCache.get(env, "HF_ENDPOINT").orElse(DEFAULT_ENDPOINT));
        Path tokenFile = HfCache.get(env, "HF_TOKEN_PATH").map(Path::of)
                .orElseGet(() -> HfCache.hfHome(env, home).resolve("token"));
        String token = HfCache.get(env, "HF_TOKEN").or(() -> readToken(tokenFile)).orElse(null);
        return new HubSettings(endpoint, token, HfCache.fromEnv(env, home));
    }

    private static Optional<String> readToken(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readString(file).strip()).filter(t -> !t.isEmpty());
        } catch (IOException e) {
            throw new HubException(file + ": cannot read the Hugging Face token: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "HubSettings[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "set") + ", cache="
                + cache.root() + "]";
    }
}
