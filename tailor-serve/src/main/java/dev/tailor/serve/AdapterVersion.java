package dev.tailor.serve;

/**
 * One immutable version of a registered adapter, as {@code GET /v1/adapters} lists it.
 *
 * @param version         its number, from 1 up per name
 * @param method          the method's {@code peft_type} ({@code LORA}, {@code IA3} …)
 * @param rank            the rank {@code r} for methods that have one, else null
 * @param bytes           the size of its files
 * @param baseFingerprint the base fingerprint its files record, or null
 * @param sha256          the hash of its files in the adapter store
 * @param created         when it was registered, in seconds since the epoch
 * @param creator         who registered it: {@code admin}, or {@code tenant:} and the tenant's name (null for a
 *                        version registered before creators were recorded)
 * @param pinned          whether it is pinned: loaded while the server runs, never evicted from its adapter cache
 * @param loaded          whether it is in memory now (the registry records false; the server fills it in)
 */
public record AdapterVersion(int version, String method, Integer rank, long bytes, String baseFingerprint,
                             String sha256, long created, String creator, boolean pinned, boolean loaded) {

    /** This version, {@code loaded} or not. */
    AdapterVersion withLoaded(boolean value) {
        return new AdapterVersion(version, method, rank, bytes, baseFingerprint, sha256, created, creator, pinned,
                value);
    }

    /** How {@code caller} is recorded as a creator. */
    static String creator(Caller caller) {
        return caller.admin() ? "admin" : "tenant:" + caller.tenant();
    }
}
