package dev.tailor.serve;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Tenants, their API keys and who owns each registered adapter name, in the registry's database (tables of
 * {@code V2__tenants.sql}). A key is 32 random bytes made here and is stored only as its SHA-256: keys are random
 * tokens, not chosen passwords, so a fast hash is enough (nothing to guess), and the database never holds one in
 * clear. Tenants and keys are read from the database whenever they are needed, so servers sharing a PostgreSQL
 * database see a tenant as soon as it is created; owners are kept in {@link ServedModels}' snapshot, so a change of
 * owner is a change of the adapter name ({@link Database#changing}).
 */
public final class Tenants {
    /** What every key this server makes starts with, so a leaked one is recognisable. */
    static final String KEY_PREFIX = "tailor-";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Database db;

    /** The tenants in {@code db}, the registry's database. */
    Tenants(Database db) {
        this.db = db;
    }

    /** The hex SHA-256 of {@code key}'s UTF-8 bytes, as stored. */
    static String hash(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new random key. */
    static String newKey() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return KEY_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * Creates tenant {@code name} with a new key; answers the key, the only time it is ever seen.
     *
     * @return the key, or null when a tenant of that name exists already (nothing changes)
     */
    String create(String name) {
        String key = newKey();
        return db.transaction(c -> {
            long now = System.currentTimeMillis() / 1000;
            // a tenant of that name created meanwhile, here or by another server, makes this insert nothing
            try (PreparedStatement s = c.prepareStatement("INSERT INTO tenant (name, created) VALUES (?, ?) "
                    + "ON CONFLICT (name) DO NOTHING")) {
                s.setString(1, name);
                s.setLong(2, now);
                if (s.executeUpdate() == 0) {
                    return null;
                }
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO api_key (key_sha256, tenant, created) "
                    + "VALUES (?, ?, ?)")) {
                s.setString(1, hash(key));
                s.setString(2, name);
                s.setLong(3, now);
                s.executeUpdate();
            }
            return key;
        });
    }

    /** Every tenant's name, in order. */
    List<String> names() {
        return db.query(c -> {
            List<String> names = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT name FROM tenant ORDER BY name");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    names.add(r.getString(1));
                }
            }
            return names;
        });
    }

    /** Whether tenant {@code name} exists. */
    boolean exists(String name) {
        return names().contains(name);
    }

    /** The tenant whose key hashes to {@code keySha256}, or null. */
    String tenantOf(String keySha256) {
        return db.query(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT tenant FROM api_key WHERE key_sha256 = ?")) {
                s.setString(1, keySha256);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? r.getString(1) : null;
                }
            }
        });
    }

    /** Who owns each registered name that has an owner row. */
    Map<String, Ownership> owners() {
        return db.query(c -> {
            Map<String, Ownership> owners = new TreeMap<>();
            try (PreparedStatement s = c.prepareStatement("SELECT name, tenant, shared FROM adapter_owner");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    owners.put(r.getString(1), new Ownership(r.getString(2), r.getInt(3) != 0));
                }
            }
            return owners;
        });
    }

    /** Records who owns adapter name {@code name}, replacing what was recorded. */
    void own(String name, Ownership owner) {
        db.transaction(c -> {
            db.changing(c, name);
            try (PreparedStatement s = c.prepareStatement("INSERT INTO adapter_owner (name, tenant, shared) "
                    + "VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET tenant = excluded.tenant, "
                    + "shared = excluded.shared")) {
                s.setString(1, name);
                s.setString(2, owner.tenant());
                s.setInt(3, owner.shared() ? 1 : 0);
                s.executeUpdate();
            }
            return null;
        });
    }
}
