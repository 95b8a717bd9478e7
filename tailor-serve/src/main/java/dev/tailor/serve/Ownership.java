package dev.tailor.serve;

/**
 * Who a registered adapter name belongs to.
 *
 * @param tenant the owning tenant, or null for the admin's
 * @param shared whether every tenant may see and use it
 */
public record Ownership(String tenant, boolean shared) {
    /** The admin's, not shared: what a name registered before tenants existed is. */
    public static final Ownership ADMIN = new Ownership(null, false);
    /** Shared with every tenant: the base and the adapters loaded in memory. */
    public static final Ownership SHARED = new Ownership(null, true);
}
