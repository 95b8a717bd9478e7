package dev.tailor.serve;

/**
 * Who sends a request: the admin (every caller, when the server has no admin key), or a tenant by its API key.
 *
 * @param tenant the tenant's name, or null for the admin
 */
public record Caller(String tenant) {
    /** The admin: may do and see everything. */
    public static final Caller ADMIN = new Caller(null);

    /** The caller of the request being handled, bound by the server's authentication filter. */
    static final ScopedValue<Caller> CURRENT = ScopedValue.newInstance();

    /** The caller of the request being handled; the admin outside a request. */
    public static Caller current() {
        return CURRENT.orElse(ADMIN);
    }

    /** Whether this is the admin. */
    public boolean admin() {
        return tenant == null;
    }

    /**
     * Whether this caller may see and use an adapter of {@code owner} (a tenant, or null for the admin's) that is
     * {@code shared} or not.
     */
    boolean sees(String owner, boolean shared) {
        return admin() || shared || tenant.equals(owner);
    }
}
