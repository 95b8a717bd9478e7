package dev.tailor.serve;

import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one caller calls the registered adapters, over one snapshot of the registry. The registry's keys are global:
 * the admin's and the shared adapters have plain keys, a tenant's adapter has the key {@code TENANT:NAME}
 * ({@link #key(String, String)}), and one a tenant registered before tenants had namespaces keeps its plain key (a
 * legacy key; its owner is recorded all the same). The admin names every adapter by its key. A tenant names its own
 * adapters without its prefix and the shared ones by their keys, and has no name for another tenant's: what it names
 * is its own ({@code TENANT:NAME}, else a legacy {@code NAME} it owns) before a shared one, else nothing, so two
 * tenants may each have a {@code support} and neither can learn of the other's.
 */
final class Namespace {
    /** Separates a tenant's name from its adapter's name in a registry key. */
    static final String SEPARATOR = ":";

    private final Caller caller;
    private final Set<String> keys;
    private final Map<String, Ownership> owners;

    /**
     * The names {@code caller} gives the registered adapters {@code keys}, owned as {@code owners} records (a key
     * without an owner is the admin's).
     */
    Namespace(Caller caller, Set<String> keys, Map<String, Ownership> owners) {
        this.caller = caller;
        this.keys = keys;
        this.owners = owners;
    }

    /** Whose names these are. */
    Caller caller() {
        return caller;
    }

    /** The registry key of tenant {@code tenant}'s adapter {@code name}. */
    static String key(String tenant, String name) {
        return tenant + SEPARATOR + name;
    }

    /** Who owns registered key {@code key}: as recorded, else the admin. */
    Ownership owner(String key) {
        return owners.getOrDefault(key, Ownership.ADMIN);
    }

    /**
     * The key of the registered adapter the caller calls {@code name}: its own before a shared one (a tenant); the
     * key itself (the admin).
     *
     * @return the key, or null when the caller has no registered adapter of that name
     */
    String key(String name) {
        if (caller.admin()) {
            return keys.contains(name) ? name : null;
        }
        String own = own(name);
        if (own != null) {
            return own;
        }
        return keys.contains(name) && owner(name).shared() && name(name).equals(name) ? name : null;
    }

    /**
     * The key of the tenant's own adapter it calls {@code name}, {@code TENANT:NAME} before a legacy {@code NAME}, or
     * null when it has none (always null for the admin, who owns no namespace).
     */
    String own(String name) {
        if (caller.admin()) {
            return null;
        }
        String namespaced = key(caller.tenant(), name);
        if (keys.contains(namespaced) && ownedByCaller(namespaced)) {
            return namespaced;
        }
        return keys.contains(name) && ownedByCaller(name) && !name.startsWith(prefix()) ? name : null;
    }

    /** What the caller calls registered key {@code key} (which it sees): a tenant's own without its prefix. */
    String name(String key) {
        return !caller.admin() && ownedByCaller(key) && key.startsWith(prefix()) ? key.substring(prefix().length())
                : key;
    }

    /**
     * Every registered adapter the caller sees, by the name it calls it, in name order: each name with its key
     * ({@link #key(String)} of the name, so an own adapter hides a shared one of the same name).
     */
    SortedMap<String, String> visible() {
        SortedMap<String, String> names = new TreeMap<>();
        for (String k : keys) {
            Ownership o = owner(k);
            if (caller.sees(o.tenant(), o.shared())) {
                String name = name(k);
                names.putIfAbsent(name, key(name));
            }
        }
        return names;
    }

    /** {@code message} with registry key {@code key} said as the caller's {@code name} for it. */
    static String speak(String message, String key, String name) {
        return message == null || key.equals(name) ? message : message.replace(key, name);
    }

    /** {@code e} with registry key {@code key} said as the caller's {@code name} for it. */
    static ApiException speak(ApiException e, String key, String name) {
        return key.equals(name) ? e : e.with(e.param(), speak(e.getMessage(), key, name));
    }

    private boolean ownedByCaller(String key) {
        return caller.tenant().equals(owner(key).tenant());
    }

    private String prefix() {
        return caller.tenant() + SEPARATOR;
    }
}
