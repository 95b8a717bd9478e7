package dev.tailor.serve.jobs;

import java.util.List;

/**
 * One page of a list read in order after a cursor.
 *
 * @param data    the items
 * @param hasMore whether more items follow the last
 */
public record Page<T>(List<T> data, boolean hasMore) {
    /** Copies the items. */
    public Page {
        data = List.copyOf(data);
    }
}
