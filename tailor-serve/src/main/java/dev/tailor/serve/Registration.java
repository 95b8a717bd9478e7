package dev.tailor.serve;

/**
 * What a registration or a rollback answers: the adapter, as the caller names it, and the version registered or that
 * {@code prod} points at now.
 *
 * @param name    the adapter's name as the caller gives it (the admin: its registry key)
 * @param version the version
 */
public record Registration(String name, int version) {
}
