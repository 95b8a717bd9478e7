package dev.tailor.serve;

import java.util.List;
import java.util.Map;

/**
 * A registered adapter, as {@code GET /v1/adapters/{name}} answers it.
 *
 * @param name     its name
 * @param aliases  each alias ({@code prod} …) and the version it points at
 * @param versions its versions, oldest first
 */
public record AdapterInfo(String name, Map<String, Integer> aliases, List<AdapterVersion> versions) {

    /** The version numbers, for messages: {@code 1, 2, 3}. */
    String numbers() {
        return String.join(", ", versions.stream().map(v -> String.valueOf(v.version())).toList());
    }

    /** The body of {@code GET /v1/adapters}. */
    public record AdapterList(String object, List<AdapterInfo> data) {
    }
}
